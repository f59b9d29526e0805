//! `file`: a path that is a directory, a file, a symlink, touched, or absent, with its owner,
//! group and mode.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, with_args};
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "path",
    "dest",
    "name",
    "state",
    "mode",
    "owner",
    "group",
    "src",
    "recurse",
    "force",
    "follow",
    "modification_time",
    "access_time",
    "attributes",
    "unsafe_writes",
];

const SCRIPT: &str = r#"path=$1 state=$2 mode=$3 owner=$4 group=$5 src=$6 check=$7 force=$8
changed=0
change() { changed=1; [ "$check" = 1 ] && return 0; "$@" || exit 2; }
if [ -z "$state" ]; then
    if [ -L "$path" ]; then state=link; elif [ -d "$path" ]; then state=directory;
    elif [ -e "$path" ]; then state=file; else
        echo "file ($path) is absent, cannot continue" >&2; exit 3; fi
fi
case $state in
    absent)
        if [ -e "$path" ] || [ -L "$path" ]; then change rm -rf -- "$path"; fi
        echo "hactl:changed=$changed"; echo "hactl:state=absent"; exit 0 ;;
    directory)
        if [ -e "$path" ] && [ ! -d "$path" ]; then
            echo "$path already exists as a $(stat -c %F -- "$path")" >&2; exit 3; fi
        [ -d "$path" ] || change mkdir -p -- "$path" ;;
    file)
        if [ ! -e "$path" ]; then echo "file ($path) is absent, cannot continue" >&2; exit 3; fi ;;
    touch)
        if [ -e "$path" ]; then change touch -- "$path"; else change touch -- "$path"; fi ;;
    link)
        cur=$(readlink -- "$path" 2>/dev/null)
        if [ "$cur" != "$src" ]; then
            if [ -e "$path" ] && [ ! -L "$path" ] && [ "$force" != 1 ]; then
                echo "refusing to convert from $(stat -c %F -- "$path") to symlink for $path" >&2; exit 3; fi
            change ln -sfn -- "$src" "$path"
        fi ;;
esac
if [ "$check" = 1 ] && [ ! -e "$path" ]; then
    echo "hactl:changed=$changed"; echo "hactl:state=$state"; exit 0
fi
set -- $(stat -c '%a %U %G' -- "$path")
if [ -n "$mode" ] && [ "$state" != link ]; then
    case $mode in
        *[!0-7]*) before=$1; [ "$check" = 1 ] || chmod "$mode" -- "$path" || exit 2
                  [ "$(stat -c %a -- "$path")" = "$before" ] || changed=1 ;;
        *) [ "$((0$mode))" = "$((0$1))" ] || change chmod "$mode" -- "$path" ;;
    esac
fi
[ -z "$owner" ] || [ "$owner" = "$2" ] || change chown -h -- "$owner" "$path"
[ -z "$group" ] || [ "$group" = "$3" ] || change chgrp -h -- "$group" "$path"
echo "hactl:changed=$changed"
echo "hactl:state=$state"
"#;

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let a = Args::new("file", args, PARAMS)?;
    let path = a.required(&["path", "dest", "name"])?;
    let state = a
        .choice(
            "state",
            &["absent", "directory", "file", "hard", "link", "touch"],
        )?
        .unwrap_or_default();
    if state == "hard" {
        return Err(ArgError("hactl does not support state=hard yet".into()));
    }
    let src = a.str(&["src"])?.unwrap_or_default();
    if state == "link" && src.is_empty() {
        return Err(ArgError("src is required for creating a symlink".into()));
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    let file_mode = a.mode()?.unwrap_or_default();
    let script = with_args(
        SCRIPT,
        &[
            &path,
            &state,
            &file_mode,
            &a.str(&["owner"])?.unwrap_or_default(),
            &a.str(&["group"])?.unwrap_or_default(),
            &src,
            flag(mode.check),
            flag(a.bool(&["force"])?.unwrap_or(false)),
        ],
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "file operation failed").with("path", path);
            }
            let fields = protocol::fields(&out.stdout);
            let changed = field(&fields, "changed") == Some("1");
            let state = field(&fields, "state").unwrap_or_default().to_string();
            Outcome::changed(changed)
                .with("path", path)
                .with("state", state)
        }),
    }))
}

super::registry::host_module!(File, "file", aliases: &[], free_form: false,
    params: PARAMS, about: "files, folders, links and their attributes",
    plan: |cx| plan(&cx.args, cx.mode));
