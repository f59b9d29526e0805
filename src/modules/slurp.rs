//! `slurp`: a file of the host, base64-encoded, as Ansible returns it (`content`, `source`,
//! `encoding: base64`), with Ansible's messages for a missing, unreadable or folder source.
//! Reads only, so check mode runs it too.

use serde_json::{Map, Value};

use super::args::Args;
use super::edit::assign;
use super::protocol::{self, field};
use super::stat::EXPAND_HOME;
use super::{ArgError, Outcome, Remote, Step};

const PARAMS: &[&str] = &["src", "path"];

/// Prints `hactl:error=KIND` or the file's bytes as base64 on one line after `hactl:ok`.
const SCRIPT: &str = include_str!("slurp.sh");

pub fn plan(args: &Map<String, Value>) -> Result<Step, ArgError> {
    let a = Args::new("slurp", args, PARAMS)?;
    let src = a.required(&["src", "path"])?;
    let script = assign(&[("path", &src)], &format!("{EXPAND_HOME}{SCRIPT}"));
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| finish(&out, &src)),
    }))
}

/// The slurp result (or failure) from what the script printed.
pub fn finish(out: &crate::transport::ExecOutput, src: &str) -> Outcome {
    if !out.success() {
        return protocol::failed_from(out, &format!("Unable to slurp file: {src}"));
    }
    let fields = protocol::fields(&out.stdout);
    match field(&fields, "error") {
        Some("dir") => Outcome::failed(format!("Source is a directory and must be a file: {src}")),
        Some("missing") => Outcome::failed(format!("File not found: {src}")),
        Some("unreadable") => Outcome::failed(format!("File is not readable: {src}")),
        _ => Outcome::changed(false)
            .with("content", field(&fields, "content").unwrap_or_default())
            .with("source", src)
            .with("encoding", "base64"),
    }
}

super::registry::host_module!(Slurp, "slurp", aliases: &[], free_form: false,
    params: PARAMS, about: "read a file of the host (base64)",
    plan: |cx| plan(&cx.args));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    #[test]
    fn content_in_base64_and_ansibles_failures() {
        let host = Host::new();
        std::fs::write(host.path("f"), b"a\x00b\n").expect("write");
        let f = host.path("f").to_string_lossy().into_owned();
        let out = host.run(plan(&args(json!({"src": f}))).expect("plan"));
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(out.result["content"], json!("YQBiCg=="));
        assert_eq!(out.result["encoding"], json!("base64"));
        assert_eq!(out.result["source"], json!(f));
        let missing = host.path("nope").to_string_lossy().into_owned();
        let out = host.run(plan(&args(json!({"path": missing}))).expect("plan"));
        assert_eq!(
            out.msg(),
            Some(format!("File not found: {missing}").as_str())
        );
        let root = host.root().to_string_lossy().into_owned();
        let out = host.run(plan(&args(json!({"src": root}))).expect("plan"));
        assert_eq!(
            out.msg(),
            Some(format!("Source is a directory and must be a file: {root}").as_str())
        );
    }
}
