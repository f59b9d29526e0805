//! vrrp_script runners and notify scripts with real processes and short intervals.

use std::path::Path;
use std::time::{Duration, Instant};

use hactl_agent::notify::{Kind, Notifier, NotifyScripts, NotifySink, NotifyState};
use hactl_agent::track::script::{self, ScriptOutcome, run_once, run_tracker};
use hactl_agent::track::{ScriptCommand, ScriptConfig, ScriptStatus};
use tokio::sync::mpsc;

fn sh(script: &str) -> ScriptCommand {
    ScriptCommand::from_argv(vec!["/bin/sh".into(), "-c".into(), script.into()]).expect("argv")
}

fn config(name: &str, cmd: ScriptCommand, rise: u32, fall: u32) -> ScriptConfig {
    ScriptConfig {
        interval: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
        rise,
        fall,
        ..ScriptConfig::new(name, cmd)
    }
}

async fn next(rx: &mut mpsc::Receiver<ScriptStatus>) -> ScriptStatus {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a status change within 10 s")
        .expect("tracker alive")
}

#[tokio::test]
async fn outcomes_of_one_run() {
    let t = Duration::from_secs(5);
    let g = script::KILL_GRACE;
    assert_eq!(
        run_once(&sh("exit 0"), t, g).await,
        ScriptOutcome::Exited(0)
    );
    assert_eq!(
        run_once(&sh("exit 3"), t, g).await,
        ScriptOutcome::Exited(3)
    );
    assert_eq!(
        run_once(&sh("kill -9 $$"), t, g).await,
        ScriptOutcome::Signalled(9)
    );
    let missing = ScriptCommand::parse("/nonexistent/hactl-check").expect("parse");
    assert!(matches!(
        run_once(&missing, t, g).await,
        ScriptOutcome::SpawnFailed(_)
    ));
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    // The script starts a grandchild and waits: both must die at the timeout.
    let cmd = sh(&format!("sleep 30 & echo $! > {}; wait", pidfile.display()));
    let start = Instant::now();
    let outcome = run_once(&cmd, Duration::from_millis(200), Duration::from_millis(500)).await;
    assert_eq!(outcome, ScriptOutcome::TimedOut);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let pid = std::fs::read_to_string(&pidfile).expect("pid written");
    assert!(
        !running(pid.trim()),
        "grandchild {pid} survived the timeout"
    );
}

/// Whether a process exists and is not a zombie.
fn running(pid: &str) -> bool {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return false,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return false;
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    true
}

#[tokio::test]
async fn rise_and_fall_follow_the_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flag = dir.path().join("ok");
    let runs = dir.path().join("runs");
    // Each run appends a line, so the test can count runs between changes.
    let cmd = sh(&format!(
        "echo >> {}; test -e {}",
        runs.display(),
        flag.display()
    ));
    let (tx, mut rx) = mpsc::channel(8);
    let task = tokio::spawn(run_tracker(config("chk", cmd, 3, 2), tx));

    // The first result decides: the flag is absent, so FAIL at once.
    assert_eq!(
        next(&mut rx).await,
        ScriptStatus {
            name: "chk".into(),
            ok: false
        }
    );
    let before = count_lines(&runs);
    std::fs::write(&flag, "").expect("flag");
    assert!(next(&mut rx).await.ok);
    // rise 3: at least three runs since the flag appeared (one may have started before).
    assert!(count_lines(&runs) - before >= 3);

    let before = count_lines(&runs);
    std::fs::remove_file(&flag).expect("unflag");
    assert!(!next(&mut rx).await.ok);
    assert!(count_lines(&runs) - before >= 2);
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("tracker stops when the receiver goes")
        .expect("no panic");
}

fn count_lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |s| s.lines().count())
}

#[tokio::test]
async fn a_hung_script_blocks_nothing_else() {
    let (tx, mut rx) = mpsc::channel(8);
    let mut hung = config("hung", sh("sleep 30"), 1, 1);
    hung.timeout = Duration::from_secs(1);
    let quick = config("quick", sh("exit 0"), 1, 1);
    tokio::spawn(run_tracker(hung, tx.clone()));
    tokio::spawn(run_tracker(quick, tx));
    let start = Instant::now();
    let first = next(&mut rx).await;
    assert_eq!(
        first,
        ScriptStatus {
            name: "quick".into(),
            ok: true
        }
    );
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    // The hung one times out (counts as a failure) after its 1 s timeout and 2 s grace.
    let second = next(&mut rx).await;
    assert_eq!(
        second,
        ScriptStatus {
            name: "hung".into(),
            ok: false
        }
    );
}

#[tokio::test]
async fn notify_runs_scripts_with_keepalived_arguments_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path();
    let record = |name: &str| {
        ScriptCommand::from_argv(vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("echo \"$# $*\" > {}/{name}", out.display()).into(),
            "sh".into(),
        ])
        .expect("argv")
    };
    let scripts = NotifyScripts {
        master: Some(record("master")),
        generic: Some(record("generic")),
        ..NotifyScripts::default()
    };
    let mut notifier = Notifier::new();
    notifier.notify(&scripts, Kind::Instance, "VI_1", NotifyState::Master, 150);
    // A hung script: notify returns at once all the same.
    let start = Instant::now();
    notifier.spawn(&sh("sleep 30"), &[]);
    assert!(start.elapsed() < Duration::from_millis(500));
    // Give the quick ones time, then drain: the hung one is killed at the limit.
    tokio::time::sleep(Duration::from_millis(500)).await;
    notifier.drain(Duration::from_millis(300)).await;
    assert_eq!(notifier.outstanding(), 0);
    assert_eq!(
        std::fs::read_to_string(out.join("generic")).expect("generic ran"),
        "4 INSTANCE VI_1 MASTER 150\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("master")).expect("master ran"),
        "0 \n"
    );
}

#[tokio::test]
async fn user_keyword_runs_the_script_as_that_user() {
    if !nix::unistd::geteuid().is_root() {
        // Only root can switch users; as anyone else this is not testable.
        return;
    }
    let nobody = hactl_agent::track::RunAs::lookup("nobody", None).expect("nobody exists");
    let uid = nobody.uid.as_raw();
    let cmd = sh(&format!("test \"$(id -u)\" = {uid}")).with_run_as(nobody);
    let t = Duration::from_secs(5);
    assert_eq!(
        run_once(&cmd, t, script::KILL_GRACE).await,
        ScriptOutcome::Exited(0)
    );
    let as_root = sh(&format!("test \"$(id -u)\" = {uid}"));
    assert_eq!(
        run_once(&as_root, t, script::KILL_GRACE).await,
        ScriptOutcome::Exited(1)
    );
}
