//! An ssh control folder that is not private is refused before hactl connects anywhere. The
//! run happens in a fresh, empty network namespace (`unshare --net`), so even a broken check
//! sends nothing beyond it: ssh would just find the network unreachable.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `hactl run` against a host with `dir` as the control folder, in an empty namespace.
fn run_with(dir: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new("unshare")
        .arg("--net")
        .arg(env!("CARGO_BIN_EXE_hactl"))
        .args(["run", "all", "-i", "203.0.113.7,", "-T", "2", "true"])
        .env("HACTL_CONTROL_PATH_DIR", dir)
        .output()
        .expect("run unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn a_shared_control_folder_stops_the_run_before_connecting() {
    assert!(root(), "needs root: unshare --net and chown");
    let tmp = tempfile::tempdir().expect("tempdir");
    let open = tmp.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (code, text) = run_with(&open);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("refusing the ssh control folder") && text.contains("not 0700"),
        "{text}"
    );
    assert!(!text.contains("port 22"), "it tried to connect:\n{text}");

    let theirs = tmp.path().join("theirs");
    std::fs::create_dir(&theirs).expect("mkdir");
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
    let (code, text) = run_with(&theirs);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("owned by uid 65534"), "{text}");

    // A folder hactl makes itself is fine: the run gets as far as the (absent) network.
    let fresh = tmp.path().join("fresh/cp");
    let (_, text) = run_with(&fresh);
    assert!(!text.contains("refusing"), "{text}");
    let mode = std::fs::metadata(&fresh)
        .expect("made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}
