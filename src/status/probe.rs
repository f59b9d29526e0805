//! Asking one host: a POSIX shell script that prints, in marked sections, the hactl-agent's
//! JSON status, keepalived's state dump, the VRRP config on disk and the host's IPv4 and
//! IPv6 addresses; and the parser that turns those sections into a [`HostView`]. One SSH round
//! trip per host, every host at once (up to `forks`).

use std::net::IpAddr;
use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::Semaphore;

use super::{Answer, Engine, HostStatus, HostView, Instance, keepalived};
use crate::transport::{self, Target, Transport};

/// Marks the start of a section in the script's output.
const MARK: &str = "@@hactl-status ";
/// A line the script prints when something on the host failed.
const ERROR: &str = "@@error ";

/// The script run on every host. keepalived writes its dump when it gets SIGUSR1; the script
/// waits until the file stops growing (at most 2 s). The config on disk tells which VIPs a
/// host with no engine running would serve (and those of agents too old to list them).
pub const SCRIPT: &str = include_str!("probe.sh");

/// Asks every target; results come back in the targets' order.
pub async fn probe_all(
    targets: Vec<Target>,
    become_user: Option<String>,
    forks: usize,
) -> Vec<HostStatus> {
    let gate = Arc::new(Semaphore::new(forks.max(1)));
    let (script, stdin) = crate::run::target::wrap(SCRIPT, b"", become_user.as_deref());
    join_all(targets.iter().map(|t| {
        let (gate, script, stdin) = (gate.clone(), &script, &stdin);
        async move {
            let _slot = gate.acquire().await;
            HostStatus {
                host: t.name.clone(),
                answer: probe(t, script, stdin).await,
            }
        }
    }))
    .await
}

async fn probe(target: &Target, script: &str, stdin: &[u8]) -> Answer {
    // Errors name the host already; the table puts it in its own column.
    let text = |e: transport::TransportError| {
        let full = e.to_string();
        full.strip_prefix(&format!("{}: ", target.name))
            .map(String::from)
            .unwrap_or(full)
    };
    let conn = match transport::connect(target).await {
        Ok(c) => c,
        Err(e) => return Answer::Unreachable(text(e)),
    };
    transport::trace_script(&target.name, script);
    let out = conn.exec(script, stdin).await;
    let _ = conn.close().await;
    match out {
        Ok(out) => Answer::Reached(parse(&String::from_utf8_lossy(&out.stdout))),
        Err(e) => Answer::Unreachable(text(e)),
    }
}

/// The script's output, section by section.
pub fn parse(output: &str) -> HostView {
    let mut sections: Vec<(&str, String)> = Vec::new();
    for line in output.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix(MARK) {
            sections.push((name.trim(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
        }
    }
    let section = |name: &str| {
        sections
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, b)| b.as_str())
    };
    let mut view = HostView {
        engine: Engine::None,
        instances: Vec::new(),
        addresses: addresses(section("addr")),
        problems: Vec::new(),
    };
    let (mut agent, mut kad) = (false, false);
    let agent_text = section("agent");
    if !agent_text.trim().is_empty() {
        agent = true;
        agent_instances(agent_text, &mut view);
    }
    let kad_text = section("keepalived");
    if !kad_text.trim().is_empty() {
        kad = true;
        errors(kad_text, &mut view.problems);
        view.instances.extend(keepalived::parse(kad_text));
    }
    view.engine = match (agent, kad) {
        (true, true) => {
            view.problems
                .push("hactl-agent and keepalived both run: they answer for the same VRIDs".into());
            Engine::Both
        }
        (true, false) => Engine::HactlAgent,
        (false, true) => Engine::Keepalived,
        (false, false) => Engine::None,
    };
    let on_disk = configured(section("config"));
    if view.engine == Engine::None {
        view.instances = on_disk;
    } else {
        // An agent built before its status listed VIPs: take them from the config it runs.
        for i in view.instances.iter_mut().filter(|i| i.vips.is_empty()) {
            if let Some(c) = on_disk.iter().find(|c| c.name == i.name) {
                i.vips = c.vips.clone();
            }
        }
    }
    view
}

fn errors(text: &str, problems: &mut Vec<String>) {
    problems.extend(
        text.lines()
            .filter_map(|l| l.strip_prefix(ERROR))
            .map(String::from),
    );
}

/// hactl-agent's JSON (`hactl-agent status --json`), read with the agent's own types.
fn agent_instances(text: &str, view: &mut HostView) {
    let before = view.problems.len();
    errors(text, &mut view.problems);
    if view.problems.len() > before {
        return;
    }
    match serde_json::from_str::<hactl_agent::status::AgentStatus>(text) {
        Ok(status) => {
            for i in status.instances {
                if let Some(e) = &i.error {
                    view.problems
                        .push(format!("hactl-agent instance {}: {e}", i.name));
                }
                view.instances.push(Instance {
                    name: i.name,
                    source: "hactl-agent",
                    interface: Some(i.interface),
                    vrid: Some(i.vrid),
                    state: crate::status::EngineState::Vrrp(i.state),
                    priority: Some(i.effective_priority),
                    base_priority: Some(i.base_priority),
                    vips: i
                        .vips
                        .iter()
                        .filter_map(|v| v.split('/').next()?.parse().ok())
                        .collect(),
                });
            }
        }
        Err(e) => view
            .problems
            .push(format!("hactl-agent status: cannot read its reply: {e}")),
    }
}

/// The instances of the config on disk of a host whose engine is stopped, parsed by the
/// agent's parser (includes are not followed). A config that does not parse shows nothing.
fn configured(text: &str) -> Vec<Instance> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let parsed = hactl_agent::config::parse_standalone(text, "/etc/keepalived/keepalived.conf");
    let Ok(parsed) = parsed.parsed else {
        return Vec::new();
    };
    parsed
        .config
        .instances
        .iter()
        .map(|i| Instance {
            name: i.name.clone(),
            source: "config",
            interface: i.interface.clone(),
            vrid: Some(i.vrid),
            state: crate::status::EngineState::Stopped,
            priority: None,
            base_priority: Some(i.priority),
            vips: i.vips.iter().map(|v| v.addr).collect(),
        })
        .collect()
}

/// The addresses of `ip -o addr show`: `2: eth0    inet 198.51.100.11/24 ...` and
/// `2: eth0    inet6 2001:db8::100/64 scope global nodad ...`, but not those on `lo` (no ARP
/// or Neighbour Advertisement answers for them, so a VIP there is not held, see `HostView`)
/// nor IPv6 ones `tentative` (in duplicate address detection: not answered for yet) or
/// `dadfailed`. keepalived and hactl-agent add IPv6 VIPs `nodad`, so theirs are never
/// tentative.
fn addresses(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            // Flags end where `ip -o` folds the lifetimes: `\       valid_lft ...`.
            let head = line.split('\\').next().unwrap_or(line);
            let mut words = head.split_whitespace();
            if words.nth(1)? == "lo" {
                return None;
            }
            words.find(|w| *w == "inet" || *w == "inet6")?;
            let addr = words.next()?.split('/').next()?.parse().ok()?;
            let flags: Vec<&str> = words.collect();
            let unusable = flags.contains(&"tentative") || flags.contains(&"dadfailed");
            (!unusable).then_some(addr)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: &str = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever
1: lo    inet 198.51.100.100/32 scope global lo\\       valid_lft forever
2: eth0    inet 198.51.100.12/24 scope global eth0\\       valid_lft forever
2: eth0    inet 198.51.100.200/24 scope global secondary eth0\\       valid_lft forever
";

    fn agent_json() -> String {
        let mut i = hactl_agent::status::InstanceStatus::new("VI_2", "eth0", 24, 100);
        i.state = hactl_agent::status::State::Master;
        i.vips = vec!["198.51.100.200/24".into()];
        let s = hactl_agent::status::AgentStatus {
            pid: 7,
            config: "/etc/keepalived/keepalived.conf".into(),
            instances: vec![i],
        };
        serde_json::to_string_pretty(&s).unwrap_or_default()
    }

    #[test]
    fn an_agent_host() {
        let out = format!(
            "{MARK}agent\n{}\n{MARK}keepalived\n{MARK}config\n{MARK}addr\n{ADDR}",
            agent_json()
        );
        let view = parse(&out);
        assert_eq!(view.engine, Engine::HactlAgent);
        assert_eq!(view.problems, Vec::<String>::new());
        assert_eq!(view.instances.len(), 1);
        let i = &view.instances[0];
        assert_eq!(
            (i.vrid, i.state.to_string().as_str(), i.priority),
            (Some(24), "MASTER", Some(100))
        );
        assert_eq!(i.vips, [IpAddr::from([198, 51, 100, 200])]);
        // Not the VIP on lo, which draws no traffic: this host does not hold 198.51.100.100.
        assert_eq!(
            view.addresses,
            [
                IpAddr::from([198, 51, 100, 12]),
                IpAddr::from([198, 51, 100, 200])
            ]
        );
    }

    #[test]
    fn a_dead_agent_and_a_stopped_host() {
        let out = format!(
            "{MARK}agent\n{ERROR}hactl-agent does not answer\n{MARK}keepalived\n{MARK}config\n{MARK}addr\n"
        );
        let view = parse(&out);
        assert_eq!(view.engine, Engine::HactlAgent);
        assert_eq!(view.problems, ["hactl-agent does not answer"]);

        let conf = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 14\n priority 90\n \
                    authentication {\n auth_type PASS\n auth_pass secret12\n }\n \
                    virtual_ipaddress {\n 198.51.100.100/24\n }\n}\n";
        let out = format!("{MARK}agent\n{MARK}keepalived\n{MARK}config\n{conf}{MARK}addr\n{ADDR}");
        let view = parse(&out);
        assert_eq!(view.engine, Engine::None);
        assert_eq!(view.instances[0].state, crate::status::EngineState::Stopped);
        assert_eq!(view.instances[0].vips, [IpAddr::from([198, 51, 100, 100])]);
        assert!(!format!("{view:?}").contains("secret12"));
    }

    #[test]
    fn vips_of_an_agent_that_does_not_list_them_come_from_its_config() {
        let json = agent_json().replace("\"198.51.100.200/24\"", "");
        assert!(!json.contains("198.51.100.200"));
        let conf = "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 24\n \
                    virtual_ipaddress {\n 198.51.100.200/24\n }\n}\n";
        let out =
            format!("{MARK}agent\n{json}\n{MARK}keepalived\n{MARK}config\n{conf}{MARK}addr\n");
        let view = parse(&out);
        assert_eq!(view.engine, Engine::HactlAgent);
        assert_eq!(view.instances[0].vips, [IpAddr::from([198, 51, 100, 200])]);
        assert_eq!(
            view.instances[0].state,
            crate::status::EngineState::Vrrp(hactl_agent::status::State::Master),
            "state from the agent, not the config"
        );
    }

    #[test]
    fn no_engine_no_config() {
        let view = parse(&format!(
            "{MARK}agent\n{MARK}keepalived\n{MARK}config\n{MARK}addr\n{ADDR}"
        ));
        assert_eq!(view.engine, Engine::None);
        assert!(view.instances.is_empty());
        assert!(view.problems.is_empty());
    }

    /// `ip -o addr show` as `ip` prints it (the IPv6 lines from the namespace where
    /// `keepalived.data.ipv6` was captured, see tests/fixtures/status/README.md): a `nodad`
    /// VIP is held, a link-local address is listed (it is no VIP), a tentative or failed
    /// address and anything on `lo` are not.
    #[test]
    fn ipv6_addresses_count_unless_tentative_or_failed() {
        let text = "1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever
2: eth0    inet 198.51.100.12/24 brd 198.51.100.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet6 2001:db8:61::100/64 scope global nodad \\       valid_lft forever preferred_lft forever
2: eth0    inet6 2001:db8:61::7/64 scope global tentative \\       valid_lft forever preferred_lft forever
2: eth0    inet6 2001:db8:61::8/64 scope global dadfailed tentative \\       valid_lft forever preferred_lft forever
2: eth0    inet6 fe80::a03a:c9ff:fe9b:9a16/64 scope link \\       valid_lft forever preferred_lft forever
";
        let got: Vec<String> = addresses(text).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            got,
            [
                "198.51.100.12",
                "2001:db8:61::100",
                "fe80::a03a:c9ff:fe9b:9a16"
            ]
        );
    }

    #[test]
    fn ipv6_vips_of_an_agent_and_of_a_config_on_disk() {
        let mut i = hactl_agent::status::InstanceStatus::new("VI_6", "eth0", 61, 150);
        i.state = hactl_agent::status::State::Backup;
        i.vips = vec!["2001:db8:61::100/64".into()];
        let json = serde_json::to_string(&hactl_agent::status::AgentStatus {
            pid: 7,
            config: "/etc/keepalived/keepalived.conf".into(),
            instances: vec![i],
        })
        .unwrap_or_default();
        let vip: IpAddr = "2001:db8:61::100"
            .parse()
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let view = parse(&format!(
            "{MARK}agent\n{json}\n{MARK}keepalived\n{MARK}config\n{MARK}addr\n"
        ));
        assert_eq!(view.instances[0].vips, [vip]);
        let conf = "vrrp_instance VI_6 {\n interface eth0\n virtual_router_id 61\n \
                    virtual_ipaddress {\n 2001:db8:61::100/64\n }\n}\n";
        let view = parse(&format!(
            "{MARK}agent\n{MARK}keepalived\n{MARK}config\n{conf}{MARK}addr\n"
        ));
        assert_eq!(view.engine, Engine::None);
        assert_eq!(view.instances[0].vips, [vip]);
    }
}
