//! The ssh transport against real hosts: one multiplexed master per host, commands with stdin
//! and exit codes, host key checking on by default.

mod common;

use std::path::Path;

use common::fleet::{self, Fleet};
use hactl::transport::{self, Target, Transport};

/// The fleet's target for `name`, with `known_hosts` as the only known hosts file.
fn target(state: &Path, name: &str, known_hosts: &str) -> Target {
    let mut t = fleet::target(state, name);
    t.ssh_args = vec![hactl::transport::SshArgs {
        kind: hactl::transport::SshArgsKind::Common,
        source: "test".into(),
        words: vec![
            "-o".into(),
            format!("UserKnownHostsFile={known_hosts}"),
            "-o".into(),
            "GlobalKnownHostsFile=/dev/null".into(),
        ],
    }];
    t
}

#[test]
fn ssh_transport_on_a_real_host() {
    let Some(state) = fleet::inside() else {
        let fleet = Fleet::up(&["t1"]);
        fleet.rerun_inside("ssh_transport_on_a_real_host");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let known = state.join("known_hosts");
        let t = target(&state, "t1", &known.display().to_string());
        let conn = transport::connect(&t)
            .await
            .expect("connect with checked host key");
        let out = conn
            .exec("hostname; cat; exit 3", b"from stdin\n")
            .await
            .expect("exec");
        assert_eq!(out.code, Some(3));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "t1\nfrom stdin\n");
        // The same master carries many commands.
        for i in 0..20 {
            let out = conn
                .exec(&format!("echo {i} >&2"), b"")
                .await
                .expect("exec");
            assert!(out.success());
            assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{i}\n"));
        }
        // A large stdin arrives whole even if the script talks first.
        let big = vec![b'x'; 4 << 20];
        let out = conn.exec("echo start; wc -c", &big).await.expect("exec");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .last(),
            Some("4194304")
        );
        conn.close().await.expect("close");

        // A host whose key is not known is refused by default.
        let empty = tempfile::NamedTempFile::new().expect("tmp");
        let t = target(&state, "t1", &empty.path().display().to_string());
        let err = transport::connect(&t)
            .await
            .expect_err("unknown host key must fail");
        assert!(err.to_string().contains("t1"), "{err}");
        // ... and accepted when the user opts out.
        let t = Target {
            check_host_key: false,
            ..t
        };
        let conn = transport::connect(&t).await.expect("opt-out connects");
        conn.close().await.expect("close");
    });
}
