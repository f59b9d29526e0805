//! Every host-side module on a real host: it changes what it must, reports `changed` exactly
//! then, reports `ok` when run again, and changes nothing in check mode.

mod common;

use common::fleet::{self, Fleet};
use hactl::modules::{self, Mode, Outcome, Status, file_put};
use hactl::transport::{self, Connection, Transport};
use serde_json::{Map, Value, json};

const NORMAL: Mode = Mode {
    check: false,
    diff: false,
};
const CHECK: Mode = Mode {
    check: true,
    diff: true,
};

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("mapping")
}

async fn run(conn: &Connection, module: &str, a: Value, mode: Mode) -> Outcome {
    modules::registry::run_on(conn, module, args(a), mode, &Map::new())
        .await
        .expect("transport")
}

async fn put(conn: &Connection, content: &str, a: Value, mode: Mode) -> Outcome {
    let (opts, _) = file_put::options("copy", &args(a)).expect("valid");
    modules::execute(
        conn,
        file_put::plan(content.as_bytes().to_vec(), &opts, mode),
    )
    .await
    .expect("transport")
}

async fn sh(conn: &Connection, script: &str) -> String {
    let out = conn.exec(script, b"").await.expect("exec");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn modules_on_a_real_host() {
    let Some(state) = fleet::inside() else {
        let fleet = Fleet::up(&["m1"]);
        fleet.rerun_inside("modules_on_a_real_host");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let conn = transport::connect(&fleet::target(&state, "m1"))
            .await
            .expect("connect");
        copy_and_template(&conn).await;
        commands(&conn).await;
        services(&conn).await;
        packages(&conn).await;
        files(&conn).await;
        conn.close().await.expect("close");
    });
}

async fn copy_and_template(conn: &Connection) {
    let dest = json!({"src": "x.conf", "dest": "/etc/hactl-test.conf", "mode": "0640"});
    let first = put(conn, "a = 1\n", dest.clone(), NORMAL).await;
    assert_eq!(first.status, Status::Changed, "{first:?}");
    assert_eq!(
        sh(
            conn,
            "stat -c %a /etc/hactl-test.conf; cat /etc/hactl-test.conf"
        )
        .await,
        "640\na = 1"
    );
    assert_eq!(
        put(conn, "a = 1\n", dest.clone(), NORMAL).await.status,
        Status::Ok
    );

    // Check mode reports the change with a diff, and leaves the file alone.
    let would = put(conn, "a = 2\n", dest.clone(), CHECK).await;
    assert_eq!(would.status, Status::Changed);
    let diff = would.diff.expect("diff in diff mode");
    assert_eq!(diff.before.as_deref(), Some("a = 1\n"));
    assert_eq!(diff.after, "a = 2\n");
    assert_eq!(sh(conn, "cat /etc/hactl-test.conf").await, "a = 1");

    // A failed validation leaves the old file and no temp file behind.
    let bad =
        json!({"src": "x.conf", "dest": "/etc/hactl-test.conf", "validate": "grep -q good %s"});
    let failed = put(conn, "bad\n", bad, NORMAL).await;
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed
            .msg()
            .unwrap_or_default()
            .contains("failed to validate"),
        "{failed:?}"
    );
    assert_eq!(
        sh(
            conn,
            "cat /etc/hactl-test.conf; ls -a /etc | grep -c '^.hactl' || true"
        )
        .await,
        "a = 1\n0"
    );

    // Backup keeps the old content beside the new, and an existing file keeps its mode.
    let backup = json!({"src": "x.conf", "dest": "/etc/hactl-test.conf", "backup": true});
    let replaced = put(conn, "good\n", backup, NORMAL).await;
    assert_eq!(replaced.status, Status::Changed);
    let b = replaced.result["backup_file"]
        .as_str()
        .expect("backup_file")
        .to_string();
    assert_eq!(
        sh(conn, &format!("cat '{b}'; stat -c %a /etc/hactl-test.conf")).await,
        "a = 1\n640"
    );

    // A folder as dest takes the source's name.
    let to_dir = json!({"src": "files/notify.sh", "dest": "/tmp/", "mode": "0755"});
    assert_eq!(
        put(conn, "#!/bin/sh\n", to_dir, NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(sh(conn, "stat -c %a /tmp/notify.sh").await, "755");

    // Only the mode differs: changed, content untouched.
    let mode_only = json!({"src": "x.conf", "dest": "/etc/hactl-test.conf", "mode": "0600"});
    assert_eq!(
        put(conn, "good\n", mode_only.clone(), NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(
        put(conn, "good\n", mode_only, NORMAL).await.status,
        Status::Ok
    );
}

async fn commands(conn: &Connection) {
    let out = run(
        conn,
        "command",
        json!({"_raw_params": "echo 'a  b' $HOME"}),
        NORMAL,
    )
    .await;
    assert_eq!(out.status, Status::Changed);
    assert_eq!(out.result["stdout"], "a  b $HOME", "command uses no shell");
    let out = run(
        conn,
        "shell",
        json!({"_raw_params": "echo $((1+2)) | tr 3 x; echo err >&2"}),
        NORMAL,
    )
    .await;
    assert_eq!(out.result["stdout"], "x");
    assert_eq!(out.result["stderr"], "err");
    let out = run(conn, "shell", json!({"_raw_params": "exit 7"}), NORMAL).await;
    assert_eq!(out.status, Status::Failed);
    assert_eq!(out.result["rc"], 7);
    assert_eq!(out.msg(), Some("non-zero return code"));
    let out = run(
        conn,
        "command",
        json!({"_raw_params": "touch /tmp/x", "creates": "/etc/host*"}),
        NORMAL,
    )
    .await;
    assert_eq!(out.status, Status::Ok, "creates with a glob that matches");
    let out = run(
        conn,
        "command",
        json!({"_raw_params": "touch /tmp/never"}),
        CHECK,
    )
    .await;
    assert_eq!(out.status, Status::Skipped);
    assert_eq!(
        sh(conn, "test -e /tmp/never && echo yes || echo no").await,
        "no"
    );
    let out = run(
        conn,
        "command",
        json!({"_raw_params": "pwd", "chdir": "/etc"}),
        NORMAL,
    )
    .await;
    assert_eq!(out.result["stdout"], "/etc");
}

async fn services(conn: &Connection) {
    let nginx = |state: &str| json!({"name": "nginx", "state": state});
    assert_eq!(
        run(conn, "service", nginx("started"), NORMAL).await.status,
        Status::Ok
    );
    assert_eq!(
        run(conn, "service", nginx("stopped"), CHECK).await.status,
        Status::Changed
    );
    assert_eq!(
        sh(conn, "systemctl is-active nginx").await,
        "active",
        "check mode stops nothing"
    );
    assert_eq!(
        run(conn, "service", nginx("stopped"), NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(
        sh(conn, "systemctl is-active nginx || true").await,
        "inactive"
    );
    assert_eq!(
        run(conn, "systemd", nginx("stopped"), NORMAL).await.status,
        Status::Ok
    );
    assert_eq!(
        run(conn, "service", nginx("started"), NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(
        run(conn, "service", nginx("restarted"), NORMAL)
            .await
            .status,
        Status::Changed
    );
    let enable = json!({"name": "nginx", "enabled": true});
    assert_eq!(
        run(conn, "service", enable, NORMAL).await.status,
        Status::Ok
    );
    let missing = run(
        conn,
        "service",
        json!({"name": "no-such-svc", "state": "started"}),
        NORMAL,
    )
    .await;
    assert_eq!(missing.status, Status::Failed);
    assert!(
        missing
            .msg()
            .unwrap_or_default()
            .contains("Could not find the requested service")
    );
}

async fn packages(conn: &Connection) {
    let present = json!({"name": ["nginx", "keepalived"], "state": "present"});
    assert_eq!(
        run(conn, "package", present.clone(), NORMAL).await.status,
        Status::Ok
    );
    assert_eq!(
        run(conn, "apt", present.clone(), NORMAL).await.status,
        Status::Ok
    );
    let yum = run(conn, "yum", present, NORMAL).await;
    assert_eq!(
        yum.status,
        Status::Failed,
        "yum on a Debian host fails as in Ansible"
    );
    let absent = json!({"name": "hactl-no-such-package", "state": "absent"});
    assert_eq!(
        run(conn, "package", absent, NORMAL).await.status,
        Status::Ok
    );
    let would = run(
        conn,
        "package",
        json!({"name": "nginx", "state": "absent"}),
        CHECK,
    )
    .await;
    assert_eq!(would.status, Status::Changed);
    assert_eq!(
        sh(conn, "dpkg-query -W -f='${Status}' nginx").await,
        "install ok installed"
    );
}

async fn files(conn: &Connection) {
    let dir = json!({"path": "/srv/hactl/a", "state": "directory", "mode": "0750"});
    assert_eq!(
        run(conn, "file", dir.clone(), NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(run(conn, "file", dir, NORMAL).await.status, Status::Ok);
    assert_eq!(sh(conn, "stat -c %a /srv/hactl/a").await, "750");
    let link = json!({"path": "/srv/hactl/l", "src": "/srv/hactl/a", "state": "link"});
    assert_eq!(
        run(conn, "file", link.clone(), NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(run(conn, "file", link, NORMAL).await.status, Status::Ok);
    let gone = json!({"path": "/srv/hactl", "state": "absent"});
    assert_eq!(
        run(conn, "file", gone.clone(), CHECK).await.status,
        Status::Changed
    );
    assert_eq!(
        run(conn, "file", gone.clone(), NORMAL).await.status,
        Status::Changed
    );
    assert_eq!(run(conn, "file", gone, NORMAL).await.status, Status::Ok);
    let touch = json!({"path": "/tmp/t", "state": "touch"});
    assert_eq!(
        run(conn, "file", touch, NORMAL).await.status,
        Status::Changed
    );
}
