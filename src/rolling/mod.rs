//! `hactl apply --rolling` (or a play with `hactl_rolling: true`): change a VRRP pair one
//! host at a time without dropping a request.
//!
//! Hosts that share a VRID (in the config they run now or the one the play renders for
//! them, [`plan`]) form a group. The play runs once per host, one host of each group at a
//! time (unrelated groups side by side, up to `-f`), through the engine's batches
//! ([`crate::engine::BatchHook`]). Around each host:
//! 1. gate *healthy*: every VIP of the group held by exactly one host, each engine
//!    answering, HTTP through each VIP answering 2xx/3xx ([`gate`]);
//! 2. drain the host ([`host`]): its VIPs move to the others; gate *drained*: they hold them
//!    and serve HTTP through them;
//! 3. the play's tasks and handlers on that host (the drain is held over engine restarts);
//! 4. gate *host*: the drained host answers the health URLs itself (straight to its address);
//! 5. undrain; gate *back*: it holds again the VIPs it is the preempting master of, each VIP
//!    has one holder, HTTP answers.
//!
//! Before step 1, a check-mode pass of the play on the host ([`Rolling::settled`]) decides
//! whether it needs the drain at all: a host the play changes nothing on, that serves as it
//! should, is left in service (a run that changes nothing moves no VIP).
//!
//! A failed gate stops the rollout: later hosts are not touched, a drained host is undrained
//! if it is healthy (else left drained, and said), the run exits 2. Before the first host,
//! the same checks are a pre-flight: an unhealthy group is refused unless `--force` (which
//! then tolerates exactly the problems it found). With `--check` the plan is printed and
//! nothing is drained.

pub mod gate;
pub mod host;
pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, join_all};
use serde_json::{Value, json};

use self::gate::{Url, Want};
use self::host::Method;
use self::plan::Inst;
use crate::cli::ConnectionArgs;
use crate::engine::BatchHook;
use crate::inventory::Inventory;
use crate::playbook::{Play, Playbook, Vars};
use crate::report;
use crate::run::context::Facts;
use crate::status::{Answer, Engine, Fleet, probe};
use crate::transport::{self, Target, Transport};

/// The play variable that turns rolling on for a play (`-e hactl_rolling=false` turns it off).
pub const VAR: &str = "hactl_rolling";
/// Health URLs: a list of `http://` URLs, or `none`; default `http://VIP/` for every VIP.
pub const VAR_HEALTH: &str = "hactl_rolling_health";
/// Seconds each gate may take (default 30).
pub const VAR_TIMEOUT: &str = "hactl_rolling_timeout";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one HTTP check may take within a gate.
const HTTP_LIMIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(250);
/// How long the pre-flight lets a pair that is still electing settle: keepalived and the agent
/// start in BACKUP and take a VIP after 3 adverts and the skew time (3.6 s at `advert_int 1`);
/// 10 s covers `advert_int` up to 3 s.
const SETTLE: Duration = Duration::from_secs(10);

/// Whether the group looks like a pair still electing its masters: every host answers with
/// no problem, no VIP is held by two hosts, and some VIP is held by nobody.
fn electing(fleet: &Fleet, hosts: &[String]) -> bool {
    let answers = fleet.hosts.iter().filter(|h| hosts.contains(&h.host)).all(|h| {
        matches!(&h.answer, Answer::Reached(v) if v.problems.is_empty() && v.engine != Engine::None)
    });
    let vips: Vec<usize> = fleet
        .vrids
        .iter()
        .filter(|v| v.members.iter().any(|m| hosts.contains(&m.host)))
        .flat_map(|v| v.vips.iter().map(|x| x.holders.len()))
        .collect();
    answers && vips.iter().all(|n| *n <= 1) && vips.contains(&0)
}

/// What the command line says.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--rolling`: every play rolls.
    pub all_plays: bool,
    pub force: bool,
    pub check: bool,
    pub conn: ConnectionArgs,
    pub extra_vars: Vars,
    /// `--tags` / `--skip-tags`: the check pass before a drain runs what the run will.
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
}

/// Whether `play` rolls: `--rolling`, else `hactl_rolling` from extra vars, else from the
/// play's vars.
pub fn wanted(play: &Play, s: &Settings) -> Result<bool, String> {
    if s.all_plays {
        return Ok(true);
    }
    let v = s.extra_vars.get(VAR).or_else(|| play.vars.get(VAR));
    match v {
        None => Ok(false),
        Some(v) => truthy(v)
            .ok_or_else(|| format!("{}: {VAR} must be true or false, not {v}", play.origin)),
    }
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" | "y" => Some(true),
            "false" | "no" | "off" | "0" | "n" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A group of hosts that share VRIDs.
#[derive(Debug, Clone)]
struct Group {
    hosts: Vec<String>,
    /// An engine runs or a VIP is held: the group serves traffic, so it rolls with drains
    /// and gates. A group where nothing runs yet is set up host by host without them.
    in_service: bool,
}

/// One play's rollout.
#[derive(Debug)]
struct Plan {
    groups: Vec<Group>,
    batches: Vec<Vec<String>>,
    /// The batch in flight (index into `batches`).
    at: usize,
    urls: Vec<Url>,
    timeout: Duration,
    /// The instances of the configs the play renders (who preempts).
    rendered: Vec<Inst>,
    methods: BTreeMap<String, Method>,
    /// Every host of every group (the play's and their peers outside it).
    targets: BTreeMap<String, Target>,
    become_user: Option<String>,
    exempt: Want,
    /// URLs not checked (`--force` over a URL that failed before the rollout).
    exempt_urls: BTreeSet<String>,
    /// Hosts drained right now, with the VIPs each held before.
    drained: BTreeMap<String, Vec<IpAddr>>,
    /// Where the VIPs of the drained hosts went.
    moved_to: BTreeMap<IpAddr, String>,
    drain_started: BTreeMap<String, Instant>,
    /// Per host, what the play changes in how the pair hears each other (see
    /// [`plan::wire_changes`]).
    wire_changes: BTreeMap<String, Vec<String>>,
    /// Per host, the IPv6 VIPs of the config the play renders: the gates read IPv6 VIPs
    /// (holders from `ip addr`, `http://[VIP]/`), but no rollout of such a pair has been
    /// run end to end, so a group with one is not rolled yet (see [`plan::ipv6_vips`]).
    ipv6: BTreeMap<String, Vec<String>>,
}

impl Plan {
    fn group_of(&self, host: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.hosts.iter().any(|h| h == host))
    }

    fn in_service(&self, host: &str) -> bool {
        self.group_of(host).is_some_and(|g| g.in_service)
    }

    /// The hosts of `batch` that are in service.
    fn serving(&self, batch: &[String]) -> Vec<String> {
        batch
            .iter()
            .filter(|h| self.in_service(h))
            .cloned()
            .collect()
    }

    /// URLs that concern a group: those through its VIPs, and those not through any VIP.
    fn urls_for(&self, vips: &[IpAddr]) -> Vec<Url> {
        self.urls
            .iter()
            .filter(|u| u.vip().is_none_or(|v| vips.contains(&v)))
            .cloned()
            .collect()
    }
}

#[derive(Debug, Default)]
struct State {
    plans: HashMap<usize, Plan>,
    stopped: Option<String>,
}

/// The rollout hook handed to the engine.
#[derive(Debug)]
pub struct Rolling {
    inv: Inventory,
    pb: Playbook,
    s: Settings,
    state: tokio::sync::Mutex<State>,
}

fn key(play: &Play) -> usize {
    std::ptr::from_ref(play) as usize
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A ROLLING line of the plan's details (`--json` has them in the `rolling_plan` event).
fn human(line: &str) {
    report::out(&format!("ROLLING {line}"));
}

/// A ROLLING line, or its `--json` event.
fn say(line: &str, event: Value) {
    if report::mode().json {
        report::event(&event);
    } else {
        report::out(&format!("ROLLING {line}"));
    }
}

impl Rolling {
    pub fn new(inv: Inventory, pb: Playbook, s: Settings) -> Rolling {
        Rolling {
            inv,
            pb,
            s,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// Why the rollout stopped, if it did.
    pub async fn stopped(&self) -> Option<String> {
        self.state.lock().await.stopped.clone()
    }

    fn forks(&self, n: usize) -> usize {
        self.s.conn.forks.unwrap_or(n.clamp(1, 256))
    }

    async fn probe(&self, plan: &Plan, hosts: &[String]) -> Fleet {
        let targets: Vec<Target> = hosts
            .iter()
            .filter_map(|h| plan.targets.get(h).cloned())
            .collect();
        let n = targets.len();
        Fleet::build(probe::probe_all(targets, plan.become_user.clone(), self.forks(n)).await)
    }

    async fn exec(&self, plan: &Plan, host: &str, script: &str) -> Result<String, String> {
        let Some(t) = plan.targets.get(host) else {
            return Err(format!("{host}: no connection target"));
        };
        let script = match &plan.become_user {
            Some(u) => crate::run::target::become_script(script, u),
            None => script.to_string(),
        };
        let conn = transport::connect(t).await.map_err(|e| e.to_string())?;
        let out = conn.exec(&script, b"").await;
        let _ = conn.close().await;
        let out = out.map_err(|e| e.to_string())?;
        if out.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(format!(
                "exit {}{}",
                out.code.map_or("by signal".into(), |c| c.to_string()),
                if err.is_empty() {
                    String::new()
                } else {
                    format!(": {err}")
                }
            ))
        }
    }

    /// HTTP GETs of `urls` (through `via` when given); the summary, or what failed.
    async fn http(
        &self,
        urls: &[Url],
        via: Option<&str>,
        limit: Duration,
    ) -> Result<String, String> {
        let results = join_all(urls.iter().map(|u| gate::get(u, via, limit))).await;
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for (u, r) in urls.iter().zip(results) {
            let through = via.map(|v| format!(" via {v}")).unwrap_or_default();
            match r {
                Ok(code) => ok.push(format!("GET {}{through} {code}", u.text)),
                Err(e) => bad.push(format!("GET {}{through}: {e}", u.text)),
            }
        }
        if bad.is_empty() {
            Ok(ok.join(", "))
        } else {
            Err(bad.join("; "))
        }
    }

    /// Waits until `want` holds for the group of `hosts` and its URLs answer, up to the
    /// plan's timeout. Returns the last summary or failure, the time it took and the last
    /// view of the fleet.
    async fn wait(
        &self,
        plan: &Plan,
        hosts: &[String],
        want: &Want,
    ) -> (Result<String, String>, Duration, Fleet) {
        let start = Instant::now();
        loop {
            let fleet = self.probe(plan, hosts).await;
            let vips = gate::vips(&fleet, hosts);
            let urls: Vec<Url> = plan
                .urls_for(&vips)
                .into_iter()
                .filter(|u| !plan.exempt_url(u))
                .collect();
            let verdict = match gate::judge(&fleet, hosts, want) {
                Ok(where_) => {
                    let left = plan.timeout.saturating_sub(start.elapsed());
                    match self.http(&urls, None, HTTP_LIMIT.min(left.max(POLL))).await {
                        Ok(got) if got.is_empty() => Ok(where_),
                        Ok(got) => Ok(format!("{where_}; {got}")),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            if verdict.is_ok() || start.elapsed() >= plan.timeout {
                return (verdict, start.elapsed(), fleet);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn stop(&self, st: &mut State, key: usize, host: &str, why: String) {
        let untouched: Vec<String> = st
            .plans
            .get(&key)
            .map(|p| p.batches.iter().skip(p.at + 1).flatten().cloned().collect())
            .unwrap_or_default();
        let rest = if untouched.is_empty() {
            String::new()
        } else {
            format!(" Not touched: {}.", untouched.join(", "))
        };
        let at = if host.is_empty() {
            String::new()
        } else {
            format!(" at [{host}]")
        };
        say(
            &format!("STOPPED{at}: {why}.{rest}"),
            json!({"event": "rolling_stop", "host": host, "reason": why, "untouched": untouched}),
        );
        st.stopped = Some(format!("{host}: {why}"));
    }

    /// Builds the plan of a play: reads the hosts, renders their configs, groups them,
    /// checks the groups (pre-flight) and prints the plan.
    async fn make_plan(&self, play: &Play, hosts: &[String]) -> anyhow::Result<Plan> {
        let become_user = (play.keywords.become_.unwrap_or(self.s.conn.become_)).then(|| {
            play.keywords
                .become_user
                .clone()
                .unwrap_or_else(|| self.s.conn.become_user().to_string())
        });
        let mut targets = BTreeMap::new();
        for h in hosts {
            let t = crate::run::target::play_target(
                &self.inv,
                h,
                &self.s.conn,
                play,
                &self.s.extra_vars,
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            targets.insert(h.clone(), t);
        }
        // Facts and the keepalived config on disk, one connection per host.
        let read = join_all(hosts.iter().map(|h| {
            let t = targets.get(h).cloned();
            let become_user = become_user.clone();
            async move {
                let t = t?;
                let conn = transport::connect(&t).await.ok()?;
                let facts = conn.exec(crate::facts::SCRIPT, b"").await.ok();
                let script = match &become_user {
                    Some(u) => crate::run::target::become_script(host::INSPECT, u),
                    None => host::INSPECT.to_string(),
                };
                let disk = conn.exec(&script, b"").await.ok();
                let _ = conn.close().await;
                Some((
                    h.clone(),
                    facts.map(|o| crate::facts::parse(&String::from_utf8_lossy(&o.stdout))),
                    disk.map(|o| host::inspected_config(&String::from_utf8_lossy(&o.stdout))),
                ))
            }
        }))
        .await;
        let mut facts = Facts::new();
        let mut on_disk: BTreeMap<String, String> = BTreeMap::new();
        for (h, f, d) in read.into_iter().flatten() {
            if let Some(f) = f {
                facts.insert(h.clone(), f);
            }
            if let Some(d) = d {
                on_disk.insert(h, d);
            }
        }
        let facts = crate::lint::source::with_placeholders(&self.inv, facts);
        let configs =
            crate::lint::source::render(&self.inv, &self.pb, None, &self.s.extra_vars, facts)?;
        for e in &configs.errors {
            report::warning(&format!(
                "--rolling: a keepalived config cannot be rendered offline, its host is grouped by the config it runs: {e}"
            ));
        }
        let mut rendered: Vec<Inst> = Vec::new();
        let mut rendered_cfg: BTreeMap<String, hactl_agent::config::Config> = BTreeMap::new();
        for c in &configs.configs {
            if let Ok(p) = hactl_agent::config::parse_standalone(&c.text, &c.file).parsed {
                rendered.extend(plan::instances(&c.host, &p.config));
                rendered_cfg.insert(c.host.clone(), p.config);
            }
        }
        // Peers outside the play (a --limit) are checked, never touched.
        for i in &rendered {
            if !targets.contains_key(&i.host) {
                let t = crate::run::target::target(&self.inv, &i.host, &self.s.conn)
                    .map_err(|e| anyhow::anyhow!(e))?;
                targets.insert(i.host.clone(), t);
            }
        }
        let mut plan = Plan {
            groups: Vec::new(),
            batches: Vec::new(),
            at: 0,
            urls: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            rendered: rendered.clone(),
            methods: BTreeMap::new(),
            targets,
            become_user,
            exempt: Want::default(),
            exempt_urls: BTreeSet::new(),
            drained: BTreeMap::new(),
            moved_to: BTreeMap::new(),
            drain_started: BTreeMap::new(),
            wire_changes: BTreeMap::new(),
            ipv6: BTreeMap::new(),
        };
        if let Some(v) = self.var(play, VAR_TIMEOUT) {
            let secs = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|s| *s > 0.0)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: {VAR_TIMEOUT} must be a number of seconds, not {v}",
                        play.origin
                    )
                })?;
            plan.timeout = Duration::from_secs_f64(secs);
        }
        let all: Vec<String> = plan.targets.keys().cloned().collect();
        let fleet = self.probe(&plan, &all).await;
        // What runs now counts as much as what the play will push.
        let mut insts = rendered.clone();
        for h in &fleet.hosts {
            if let Answer::Reached(view) = &h.answer {
                for i in &view.instances {
                    let Some(vrid) = i.vrid else { continue };
                    insts.push(Inst {
                        host: h.host.clone(),
                        name: i.name.clone(),
                        interface: i.interface.clone().unwrap_or_default(),
                        vrid,
                        priority: i.base_priority.unwrap_or(0),
                        master: i.state.is_master(),
                        preempt: true,
                        vips: i.vips.clone(),
                    });
                }
            }
        }
        let groups = plan::groups(hosts, &insts);
        for g in groups {
            let in_service = fleet.hosts.iter().any(|h| {
                g.contains(&h.host)
                    && matches!(&h.answer, Answer::Reached(v) if v.engine != Engine::None)
            }) || fleet.vrids.iter().any(|v| {
                v.members.iter().any(|m| g.contains(&m.host))
                    && v.vips.iter().any(|x| !x.holders.is_empty())
            });
            plan.groups.push(Group {
                hosts: g,
                in_service,
            });
        }
        for h in hosts {
            let before = on_disk.get(h).and_then(|t| {
                hactl_agent::config::parse_standalone(t, "/etc/keepalived/keepalived.conf")
                    .parsed
                    .ok()
            });
            if let (Some(b), Some(a)) = (before, rendered_cfg.get(h)) {
                let changes = plan::wire_changes(&b.config, a);
                if !changes.is_empty() {
                    plan.wire_changes.insert(h.clone(), changes);
                }
            }
            if let Some(a) = rendered_cfg.get(h) {
                let v6 = plan::ipv6_vips(a);
                if !v6.is_empty() {
                    plan.ipv6.insert(h.clone(), v6);
                }
            }
        }
        // How each host of the play is drained.
        for h in hosts {
            let engine = fleet
                .hosts
                .iter()
                .find(|x| &x.host == h)
                .and_then(|x| match &x.answer {
                    Answer::Reached(v) => Some(v.engine),
                    Answer::Unreachable(_) => None,
                });
            let method = match engine {
                Some(Engine::HactlAgent | Engine::Both) => Method::Agent,
                Some(Engine::Keepalived) => {
                    let disk = on_disk
                        .get(h)
                        .and_then(|t| {
                            hactl_agent::config::parse_standalone(
                                t,
                                "/etc/keepalived/keepalived.conf",
                            )
                            .parsed
                            .ok()
                        })
                        .and_then(|p| plan::file_drain(&p.config, h, &insts));
                    let future = rendered_cfg
                        .get(h)
                        .and_then(|c| plan::file_drain(c, h, &insts));
                    // Only a file both configs track keeps the drain over the restart.
                    match (disk, future) {
                        (Some(d), Some(f)) if d.path == f.path => {
                            Method::File(if d.value.abs() >= f.value.abs() { d } else { f })
                        }
                        _ => Method::Stop,
                    }
                }
                Some(Engine::None) | None => Method::Nothing,
            };
            plan.methods.insert(h.clone(), method);
        }
        // Health URLs.
        match self.var(play, VAR_HEALTH) {
            Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("none") => {}
            Some(Value::String(s)) => plan.urls.push(
                Url::parse(s.trim())
                    .map_err(|e| anyhow::anyhow!("{}: {VAR_HEALTH}: {e}", play.origin))?,
            ),
            Some(Value::Array(list)) => {
                for u in list {
                    let text = u.as_str().ok_or_else(|| {
                        anyhow::anyhow!("{}: {VAR_HEALTH}: {u} is not a URL", play.origin)
                    })?;
                    plan.urls.push(
                        Url::parse(text)
                            .map_err(|e| anyhow::anyhow!("{}: {VAR_HEALTH}: {e}", play.origin))?,
                    );
                }
            }
            Some(v) => anyhow::bail!(
                "{}: {VAR_HEALTH} must be a list of http:// URLs or none, not {v}",
                play.origin
            ),
            None => {
                for g in plan.groups.iter().filter(|g| g.in_service) {
                    for vip in gate::vips(&fleet, &g.hosts) {
                        plan.urls.push(Url::of_vip(vip));
                    }
                }
            }
        }
        let group_lists: Vec<Vec<String>> = plan.groups.iter().map(|g| g.hosts.clone()).collect();
        plan.batches = plan::batches(&group_lists, hosts, self.forks(hosts.len()));
        self.print_plan(play, &plan, &fleet);
        Ok(plan)
    }

    fn var(&self, play: &Play, name: &str) -> Option<Value> {
        self.s
            .extra_vars
            .get(name)
            .or_else(|| play.vars.get(name))
            .cloned()
    }

    fn print_plan(&self, play: &Play, plan: &Plan, fleet: &Fleet) {
        let urls: Vec<&str> = plan.urls.iter().map(|u| u.text.as_str()).collect();
        let urls_text = if urls.is_empty() {
            "none".to_string()
        } else {
            urls.join(", ")
        };
        say(
            &format!(
                "PLAN [{}]: {} group(s), gates time out after {}, health URLs: {urls_text}",
                play.name,
                plan.groups.len(),
                secs(plan.timeout)
            ),
            json!({"event": "rolling_plan", "play": play.name, "timeout": plan.timeout.as_secs_f64(), "urls": urls,
                   "groups": plan.groups.iter().map(|g| json!({"hosts": g.hosts, "in_service": g.in_service})).collect::<Vec<_>>(),
                   "batches": plan.batches,
                   "methods": plan.methods.iter().map(|(h, m)| (h.clone(), json!(m.describe()))).collect::<serde_json::Map<_, _>>()}),
        );
        for (n, g) in plan.groups.iter().enumerate() {
            let vips: Vec<String> = gate::vips(fleet, &g.hosts)
                .iter()
                .map(|v| v.to_string())
                .collect();
            let what = if !g.in_service {
                if vips.is_empty() && plan.rendered.iter().all(|i| !g.hosts.contains(&i.host)) {
                    "no VRRP: applied without drain".to_string()
                } else {
                    "not in service yet (no engine runs, no VIP held): applied host by host without drain or gates".to_string()
                }
            } else {
                format!(
                    "VIPs {}",
                    if vips.is_empty() {
                        "none".into()
                    } else {
                        vips.join(", ")
                    }
                )
            };
            human(&format!(
                "PLAN group {}: {} ({what})",
                n + 1,
                g.hosts.join(", ")
            ));
            if !g.in_service {
                continue;
            }
            for h in g.hosts.iter() {
                let Some(m) = plan.methods.get(h) else {
                    human(&format!(
                        "PLAN   [{h}] not in this play: checked, not touched"
                    ));
                    continue;
                };
                let back: Vec<String> = plan::preempts(h, &plan.rendered)
                    .iter()
                    .map(|v| v.to_string())
                    .collect();
                let back = if back.is_empty() {
                    String::new()
                } else {
                    format!(", {} back on {h}", back.join(", "))
                };
                human(&format!(
                    "PLAN   [{h}] gate healthy; drain by {}; gate drained (its VIPs on the others, HTTP through them); its tasks and handlers; gate host (HTTP straight to {h}); undrain; gate back (one holder per VIP{back}, HTTP)",
                    m.describe()
                ));
            }
        }
        let order: Vec<String> = plan
            .batches
            .iter()
            .map(|b| format!("[{}]", b.join(", ")))
            .collect();
        human(&format!("PLAN order: {}", order.join(" then ")));
    }
}

impl Plan {
    fn exempt_url(&self, u: &Url) -> bool {
        self.exempt_urls.contains(&u.text)
    }
}

impl Rolling {
    /// A group that cannot be rolled: refused (`true`, its reason added to `refused`), or in
    /// check mode, which touches nothing, a warning of what the real run will refuse.
    fn cannot_roll(
        &self,
        hosts: &[String],
        warning: String,
        warning_detail: Value,
        why: String,
        refused: &mut Vec<String>,
    ) -> bool {
        let names = hosts.join(", ");
        if self.s.check {
            say(
                &format!(
                    "pre-flight [{names}]: WARNING: {warning}; the run without --check will refuse to roll it"
                ),
                json!({"event": "gate", "gate": "preflight", "hosts": hosts, "ok": true, "detail": warning_detail, "check": true}),
            );
            return false;
        }
        say(
            &format!("pre-flight [{names}]: FAILED: {why}"),
            json!({"event": "gate", "gate": "preflight", "hosts": hosts, "ok": false, "detail": why}),
        );
        refused.push(format!("[{names}] {why}"));
        true
    }

    /// The pre-flight: every group in service must be healthy now. With `--force` the
    /// problems found are tolerated from then on (and only those); without, the rollout is
    /// refused before anything is touched.
    async fn preflight(&self, plan: &mut Plan) -> Result<(), String> {
        let mut refused = Vec::new();
        for g in plan.groups.clone().iter().filter(|g| g.in_service) {
            let v6 = per_host(&g.hosts, &plan.ipv6);
            if !v6.is_empty() {
                let why = format!(
                    "rolling a pair with IPv6 VIPs is not verified yet, and this pair has some ({}); apply it with -e {VAR}=false (all hosts at once, as Ansible does)",
                    v6.join("; ")
                );
                if self.cannot_roll(&g.hosts, why.clone(), json!(why), why.clone(), &mut refused) {
                    continue;
                }
            }
            let changes = per_host(&g.hosts, &plan.wire_changes);
            if !changes.is_empty() && !self.s.force {
                let warning = format!(
                    "the play changes what the pair needs to hear each other ({})",
                    changes.join("; ")
                );
                let why = format!(
                    "{warning}; rolled one host at a time, each side would hold every VIP in between; apply this change with -e {VAR}=false (all hosts at once, as Ansible does)"
                );
                if self.cannot_roll(&g.hosts, warning, json!(changes), why, &mut refused) {
                    continue;
                }
            }
            let start = Instant::now();
            let (verdict, took, fleet) = loop {
                // The pair is taken as it is, except while an election is still under way
                // (engines answer, no VIP is held twice, some VIP by nobody yet: a pair started
                // moments ago, by the last run's handlers say, is still in its master-down
                // wait). That settles within a few advert intervals; anything else is refused
                // at once.
                let fleet = self.probe(plan, &g.hosts).await;
                let judged = gate::judge(&fleet, &g.hosts, &Want::default());
                let vips = gate::vips(&fleet, &g.hosts);
                let urls = plan.urls_for(&vips);
                let verdict = match judged {
                    Ok(w) => {
                        // A health URL that fails already, with the VIPs where they belong, is
                        // not the rollout's doing (a backend down, no backend yet): it is
                        // named, and left out of this rollout's gates, which could otherwise
                        // never pass. The pre-flight refuses only a broken pair.
                        let mut failing = Vec::new();
                        let results =
                            join_all(urls.iter().map(|u| gate::get(u, None, HTTP_LIMIT))).await;
                        let mut fine = Vec::new();
                        for (u, r) in urls.iter().zip(results) {
                            match r {
                                Ok(code) => fine.push(format!("GET {} {code}", u.text)),
                                Err(e) => failing.push((u.text.clone(), e)),
                            }
                        }
                        if !failing.is_empty()
                            && (start.elapsed() >= SETTLE.min(plan.timeout)
                                || !electing(&fleet, &g.hosts))
                        {
                            for (u, e) in &failing {
                                say(
                                    &format!(
                                        "pre-flight [{}]: WARNING: GET {u} fails before the rollout ({e}); it is not checked during this rollout",
                                        g.hosts.join(", ")
                                    ),
                                    json!({"event": "gate", "gate": "preflight", "hosts": g.hosts, "ok": true, "url": u, "detail": e, "unchecked": true}),
                                );
                                plan.exempt_urls.insert(u.clone());
                            }
                        }
                        if fine.is_empty() {
                            Ok(w)
                        } else {
                            Ok(format!("{w}; {}", fine.join(", ")))
                        }
                    }
                    Err(e) => Err(e),
                };
                let settle = SETTLE.min(plan.timeout);
                if verdict.is_ok() || !electing(&fleet, &g.hosts) || start.elapsed() >= settle {
                    break (verdict, start.elapsed(), fleet);
                }
                tokio::time::sleep(POLL).await;
            };
            let hosts = g.hosts.join(", ");
            match verdict {
                Ok(w) => say(
                    &format!("pre-flight [{hosts}]: {w} ({})", secs(took)),
                    json!({"event": "gate", "gate": "preflight", "hosts": g.hosts, "ok": true, "detail": w, "seconds": took.as_secs_f64()}),
                ),
                Err(e) => {
                    say(
                        &format!("pre-flight [{hosts}]: FAILED: {e}"),
                        json!({"event": "gate", "gate": "preflight", "hosts": g.hosts, "ok": false, "detail": e, "seconds": took.as_secs_f64()}),
                    );
                    if !self.s.force {
                        refused.push(format!("[{hosts}] {e}"));
                        continue;
                    }
                    // Tolerate exactly what is wrong now.
                    for v in &fleet.vrids {
                        if !v.members.iter().any(|m| g.hosts.contains(&m.host)) {
                            continue;
                        }
                        for vip in v.vips.iter().filter(|x| x.holders.len() != 1) {
                            plan.exempt.exempt_vips.insert(vip.address);
                        }
                    }
                    for h in &fleet.hosts {
                        if let Answer::Reached(view) = &h.answer {
                            if !view.problems.is_empty() {
                                plan.exempt.exempt_hosts.insert(h.host.clone());
                            }
                        }
                    }
                    let vips = gate::vips(&fleet, &g.hosts);
                    for u in plan.urls_for(&vips) {
                        if gate::get(&u, None, HTTP_LIMIT).await.is_err() {
                            plan.exempt_urls.insert(u.text.clone());
                        }
                    }
                    say(
                        &format!(
                            "pre-flight [{hosts}]: --force: going on; these problems are tolerated from now on"
                        ),
                        json!({"event": "gate", "gate": "preflight", "hosts": g.hosts, "ok": true, "forced": true}),
                    );
                }
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "refusing to roll: not healthy before the rollout: {}; nothing was touched (--force rolls anyway)",
                refused.join(" | ")
            ))
        }
    }

    /// The in-service hosts of `batch` that need no drain: a check-mode pass of `play` on
    /// them (the same play, vars and tags, as `--check` runs it) reports nothing changed,
    /// nothing failed or unreachable, no task whose outcome check mode cannot tell (a command
    /// it skips, a module without check mode) and no handler an earlier run left pending;
    /// and the host serves as it should (its group passes the healthy gate with the host
    /// holding the VIPs it preempts, so a host left drained by a stopped rollout is not one).
    /// Anything else, or a pass that cannot run, drains as usual.
    async fn settled(&self, plan: &Plan, play: &Play, batch: &[String]) -> BTreeSet<String> {
        let work = plan.serving(batch);
        if work.is_empty() {
            return BTreeSet::new();
        }
        let pb = Playbook {
            plays: vec![play.clone()],
            ..self.pb.clone()
        };
        let opts = crate::engine::Options {
            check: true,
            extra_vars: self.s.extra_vars.clone(),
            tags: self.s.tags.clone(),
            skip_tags: self.s.skip_tags.clone(),
            conn: self.s.conn.clone(),
            skip_lint: true,
            hosts: Some(work.clone()),
            ..Default::default()
        };
        let sink = crate::engine::events::Collect::default();
        let started = Instant::now();
        let ran =
            crate::engine::run(&self.inv, &pb, &opts, &crate::engine::Mode::Live, &sink).await;
        let stats = match ran {
            Ok(done) => done.stats,
            Err(e) => {
                say(
                    &format!("check pass failed ({e:#}); draining as usual"),
                    json!({"event": "check_pass", "host": "", "ok": false, "detail": format!("{e:#}")}),
                );
                return BTreeSet::new();
            }
        };
        let unsure = unpredictable(&sink.take());
        let mut out = BTreeSet::new();
        for h in &work {
            let s = stats.get(h).copied().unwrap_or_default();
            let quiet = s.changed == 0
                && s.failed == 0
                && s.unreachable == 0
                && s.ignored == 0
                && stats.contains_key(h)
                && !unsure.contains_key(h);
            let took = started.elapsed();
            if !quiet {
                let why = match unsure.get(h) {
                    Some(w) if s.changed == 0 => w.clone(),
                    _ => format!(
                        "changed={} failed={} unreachable={}",
                        s.changed, s.failed, s.unreachable
                    ),
                };
                say(
                    &format!("[{h}] check pass: {why}; it is drained ({})", secs(took)),
                    json!({"event": "check_pass", "host": h, "ok": true, "drain": true, "detail": why, "changed": s.changed, "seconds": took.as_secs_f64()}),
                );
                continue;
            }
            let Some(g) = plan.group_of(h) else { continue };
            let fleet = self.probe(plan, &g.hosts).await;
            let mut want = plan.exempt.clone();
            for vip in plan::preempts(h, &plan.rendered) {
                want.on.insert(vip, h.clone());
            }
            match gate::judge(&fleet, &g.hosts, &want) {
                Ok(w) => {
                    say(
                        &format!(
                            "[{h}] check pass: nothing to change (ok={} skipped={}), serving ({w}); not drained ({})",
                            s.ok,
                            s.skipped,
                            secs(took)
                        ),
                        json!({"event": "check_pass", "host": h, "ok": true, "drain": false, "detail": w, "changed": 0, "seconds": took.as_secs_f64()}),
                    );
                    out.insert(h.clone());
                }
                Err(e) => say(
                    &format!(
                        "[{h}] check pass: nothing to change, but not serving as it should ({e}); it is drained"
                    ),
                    json!({"event": "check_pass", "host": h, "ok": true, "drain": true, "detail": e, "changed": 0, "seconds": took.as_secs_f64()}),
                ),
            }
        }
        out
    }

    /// Drains the batch's hosts that serve (gate healthy, drain, gate drained).
    async fn drain_batch(&self, st: &mut State, k: usize, batch: &[String]) -> bool {
        let Some(plan) = st.plans.get(&k) else {
            return true;
        };
        let work = plan.serving(batch);
        if work.is_empty() {
            return true;
        }
        // Gate healthy, per group.
        let mut before: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
        for h in &work {
            let Some(g) = plan.group_of(h) else { continue };
            let hosts = g.hosts.clone();
            let (verdict, took, fleet) = self.wait(plan, &hosts, &plan.exempt.clone()).await;
            match verdict {
                Ok(w) => say(
                    &format!("[{h}] gate healthy: {w} ({})", secs(took)),
                    json!({"event": "gate", "gate": "healthy", "host": h, "ok": true, "detail": w, "seconds": took.as_secs_f64()}),
                ),
                Err(e) => {
                    say(
                        &format!("[{h}] gate healthy: FAILED after {}: {e}", secs(took)),
                        json!({"event": "gate", "gate": "healthy", "host": h, "ok": false, "detail": e, "seconds": took.as_secs_f64()}),
                    );
                    self.stop(
                        st,
                        k,
                        h,
                        format!("gate healthy failed before draining it: {e}; nothing was drained"),
                    );
                    return false;
                }
            }
            let held: Vec<IpAddr> = gate::vips(&fleet, &hosts)
                .into_iter()
                .filter(|v| gate::holders(&fleet, *v).contains(h))
                .collect();
            before.insert(h.clone(), held);
        }
        // Drain.
        let results = join_all(work.iter().map(|h| async move {
            let m = plan.methods.get(h).cloned().unwrap_or(Method::Nothing);
            (
                h.clone(),
                Instant::now(),
                self.exec(plan, h, &host::drain(&m)).await,
            )
        }))
        .await;
        let mut failed = None;
        let mut started = BTreeMap::new();
        let mut drained = Vec::new();
        for (h, t, r) in results {
            match r {
                Ok(_) => {
                    started.insert(h.clone(), t);
                    drained.push(h);
                }
                Err(e) => failed = Some((h, e)),
            }
        }
        let plan = st.plans.get_mut(&k).expect("plan exists");
        for h in &drained {
            plan.drained
                .insert(h.clone(), before.get(h).cloned().unwrap_or_default());
        }
        plan.drain_started = started;
        if let Some((h, e)) = failed {
            let undone = self.undrain_quietly(st, k, &work).await;
            self.stop(st, k, &h, format!("the drain failed: {e}{undone}"));
            return false;
        }
        // Gate drained.
        let plan = st.plans.get(&k).expect("plan exists");
        let mut want = plan.exempt.clone();
        want.drained = work.iter().cloned().collect();
        let groups: Vec<Vec<String>> = work
            .iter()
            .filter_map(|h| plan.group_of(h).map(|g| g.hosts.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut moves: Vec<(IpAddr, String)> = Vec::new();
        for hosts in groups {
            let (verdict, _, fleet) = self.wait(plan, &hosts, &want).await;
            for h in work.iter().filter(|h| hosts.contains(h)) {
                for vip in before.get(h).into_iter().flatten() {
                    if let Some(to) = gate::holders(&fleet, *vip).first() {
                        moves.push((*vip, to.clone()));
                    }
                }
            }
            for h in work.iter().filter(|h| hosts.contains(h)) {
                let took = plan
                    .drain_started
                    .get(h)
                    .map(Instant::elapsed)
                    .unwrap_or_default();
                let m = plan
                    .methods
                    .get(h)
                    .map(Method::describe)
                    .unwrap_or_default();
                match &verdict {
                    Ok(w) => {
                        let moved: Vec<(String, String)> = before
                            .get(h)
                            .into_iter()
                            .flatten()
                            .map(|vip| {
                                let to = gate::holders(&fleet, *vip).join("+");
                                (instance_of(&fleet, h, *vip), to)
                            })
                            .collect();
                        let text = if moved.is_empty() {
                            "(it held no VIP)".to_string()
                        } else {
                            moved
                                .iter()
                                .map(|(i, to)| format!("{i} -> {to}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        say(
                            &format!("[{h}] drain {text} ({})", secs(took)),
                            json!({"event": "drain", "host": h, "method": m, "moved": moved.iter().map(|(i, to)| json!({"instance": i, "to": to})).collect::<Vec<_>>(), "seconds": took.as_secs_f64()}),
                        );
                        say(
                            &format!("[{h}] gate drained: {w}"),
                            json!({"event": "gate", "gate": "drained", "host": h, "ok": true, "detail": w, "seconds": took.as_secs_f64()}),
                        );
                    }
                    Err(e) => {
                        say(
                            &format!("[{h}] gate drained: FAILED after {}: {e}", secs(took)),
                            json!({"event": "gate", "gate": "drained", "host": h, "ok": false, "detail": e, "seconds": took.as_secs_f64()}),
                        );
                    }
                }
            }
            if let Err(e) = verdict {
                // Nothing was changed on the drained hosts yet: they go back into service.
                let undone = self.undrain_quietly(st, k, &work).await;
                let h = work.first().cloned().unwrap_or_default();
                self.stop(st, k, &h, format!("gate drained failed: {e}{undone}"));
                return false;
            }
        }
        if let Some(plan) = st.plans.get_mut(&k) {
            plan.moved_to.extend(moves);
        }
        true
    }

    /// Undrains `hosts` without gates (the rollout is stopping); says what happened.
    async fn undrain_quietly(&self, st: &mut State, k: usize, hosts: &[String]) -> String {
        let Some(plan) = st.plans.get(&k) else {
            return String::new();
        };
        let mut said = Vec::new();
        for h in hosts.iter().filter(|h| plan.drained.contains_key(*h)) {
            let m = plan.methods.get(h).cloned().unwrap_or(Method::Nothing);
            match self.exec(plan, h, &host::undrain(&m)).await {
                Ok(_) => said.push(format!("{h} undrained")),
                Err(e) => said.push(format!("{h} could not be undrained: {e}")),
            }
        }
        if let Some(plan) = st.plans.get_mut(&k) {
            for h in hosts {
                plan.drained.remove(h);
            }
        }
        if said.is_empty() {
            String::new()
        } else {
            format!("; {}", said.join(", "))
        }
    }

    /// After a batch: check each drained host on its own, undrain it, gate back.
    async fn undrain_batch(
        &self,
        st: &mut State,
        k: usize,
        batch: &[String],
        failed: &[String],
    ) -> bool {
        let Some(plan) = st.plans.get(&k) else {
            return true;
        };
        let work: Vec<String> = batch
            .iter()
            .filter(|h| plan.drained.contains_key(*h))
            .cloned()
            .collect();
        if work.is_empty() {
            return true;
        }
        // Gate host: the health URLs straight to each host, and its engine answering.
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut healthy = Vec::new();
        for h in &work {
            let start = Instant::now();
            let vips: Vec<IpAddr> = plan
                .group_of(h)
                .map(|g| {
                    let mut v: Vec<IpAddr> = plan
                        .rendered
                        .iter()
                        .filter(|i| g.hosts.contains(&i.host))
                        .flat_map(|i| i.vips.clone())
                        .collect();
                    v.extend(plan.drained.get(h).cloned().unwrap_or_default());
                    v.extend(plan.urls.iter().filter_map(Url::vip));
                    v
                })
                .unwrap_or_default();
            let urls: Vec<Url> = plan
                .urls_for(&vips)
                .into_iter()
                .filter(|u| !plan.exempt_url(u))
                .collect();
            let address = plan
                .targets
                .get(h)
                .map(|t| t.address.clone())
                .unwrap_or_default();
            let check = async {
                let fleet = self.probe(plan, std::slice::from_ref(h)).await;
                let mut why = Vec::new();
                for x in &fleet.hosts {
                    match &x.answer {
                        Answer::Unreachable(m) => why.push(format!("unreachable: {m}")),
                        Answer::Reached(v) if !plan.exempt.exempt_hosts.contains(h) => {
                            why.extend(v.problems.clone())
                        }
                        Answer::Reached(_) => {}
                    }
                }
                let http = self.http(&urls, Some(&address), HTTP_LIMIT).await;
                match http {
                    Ok(got) if why.is_empty() => Ok(got),
                    Ok(_) => Err(why.join("; ")),
                    Err(e) => {
                        why.push(e);
                        Err(why.join("; "))
                    }
                }
            };
            // A host that just restarted nginx may need a moment: retry within the timeout.
            let mut verdict = check.await;
            while verdict.is_err() && start.elapsed() < plan.timeout && !failed.contains(h) {
                tokio::time::sleep(POLL).await;
                verdict = {
                    let fleet = self.probe(plan, std::slice::from_ref(h)).await;
                    let mut why = Vec::new();
                    for x in &fleet.hosts {
                        match &x.answer {
                            Answer::Unreachable(m) => why.push(format!("unreachable: {m}")),
                            Answer::Reached(v) if !plan.exempt.exempt_hosts.contains(h) => {
                                why.extend(v.problems.clone())
                            }
                            Answer::Reached(_) => {}
                        }
                    }
                    match self.http(&urls, Some(&address), HTTP_LIMIT).await {
                        Ok(got) if why.is_empty() => Ok(got),
                        Ok(_) => Err(why.join("; ")),
                        Err(e) => {
                            why.push(e);
                            Err(why.join("; "))
                        }
                    }
                };
            }
            let took = start.elapsed();
            match verdict {
                Ok(got) => {
                    say(
                        &format!(
                            "[{h}] gate host: {} ({})",
                            if got.is_empty() {
                                "no health URL".to_string()
                            } else {
                                got.clone()
                            },
                            secs(took)
                        ),
                        json!({"event": "gate", "gate": "host", "host": h, "ok": true, "detail": got, "seconds": took.as_secs_f64()}),
                    );
                    healthy.push(h.clone());
                }
                Err(e) => {
                    say(
                        &format!("[{h}] gate host: FAILED after {}: {e}", secs(took)),
                        json!({"event": "gate", "gate": "host", "host": h, "ok": false, "detail": e, "seconds": took.as_secs_f64()}),
                    );
                    problems.push((h.clone(), e));
                }
            }
        }
        let failed_here: Vec<&String> = work.iter().filter(|h| failed.contains(*h)).collect();
        if !failed_here.is_empty() || !problems.is_empty() {
            // Healthy hosts go back into service; unhealthy ones stay drained.
            let back: Vec<String> = healthy.clone();
            let undone = self.undrain_quietly(st, k, &back).await;
            let mut why = Vec::new();
            for h in &failed_here {
                why.push(format!("the play failed on {h}"));
            }
            for (h, e) in &problems {
                why.push(format!("{h} does not answer its health checks after its change ({e}); {h} is left drained (its VIPs stay on the others; `hactl apply` again, or undrain it by hand)"));
            }
            let h = failed_here
                .first()
                .map(|s| (*s).clone())
                .or_else(|| problems.first().map(|p| p.0.clone()))
                .unwrap_or_default();
            self.stop(st, k, &h, format!("{}{undone}", why.join("; ")));
            return false;
        }
        // Undrain, then gate back.
        let plan = st.plans.get(&k).expect("plan exists");
        let results = join_all(work.iter().map(|h| async move {
            let m = plan.methods.get(h).cloned().unwrap_or(Method::Nothing);
            (h.clone(), self.exec(plan, h, &host::undrain(&m)).await)
        }))
        .await;
        let start = Instant::now();
        let mut errors = Vec::new();
        let mut started_kad = BTreeSet::new();
        for (h, r) in results {
            match r {
                Ok(out) if out.contains("@@started keepalived") => {
                    started_kad.insert(h);
                }
                Ok(_) => {}
                Err(e) => errors.push(format!("{h}: the undrain failed: {e}")),
            }
        }
        let mut want = plan.exempt.clone();
        for h in &work {
            for vip in plan::preempts(h, &plan.rendered) {
                want.on.insert(vip, h.clone());
            }
        }
        let groups: Vec<Vec<String>> = work
            .iter()
            .filter_map(|h| plan.group_of(h).map(|g| g.hosts.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut verdicts = Vec::new();
        for hosts in &groups {
            let (v, _, fleet) = self.wait(plan, hosts, &want).await;
            verdicts.push((hosts.clone(), v, fleet));
        }
        let took = start.elapsed();
        let mut stop_why = errors;
        for (hosts, v, fleet) in &verdicts {
            for h in work.iter().filter(|h| hosts.contains(h)) {
                let back: Vec<String> = want
                    .on
                    .iter()
                    .filter(|(_, w)| *w == h)
                    .map(|(vip, _)| instance_of(fleet, h, *vip))
                    .collect();
                let from: BTreeSet<String> = plan
                    .drained
                    .get(h)
                    .into_iter()
                    .flatten()
                    .flat_map(|vip| plan.moved_to.get(vip).cloned())
                    .collect();
                let note = if started_kad.contains(h) {
                    " (keepalived, held stopped while drained, started)"
                } else {
                    ""
                };
                let text = if back.is_empty() {
                    "(it preempts no VIP)".to_string()
                } else if from.is_empty() {
                    back.join(", ")
                } else {
                    format!(
                        "{} <- {}",
                        back.join(", "),
                        from.into_iter().collect::<Vec<_>>().join("+")
                    )
                };
                match v {
                    Ok(w) => {
                        say(
                            &format!("[{h}] undrain {text}{note} ({})", secs(took)),
                            json!({"event": "undrain", "host": h, "instances": back, "seconds": took.as_secs_f64(), "started_keepalived": started_kad.contains(h)}),
                        );
                        say(
                            &format!("[{h}] gate back: {w}"),
                            json!({"event": "gate", "gate": "back", "host": h, "ok": true, "detail": w, "seconds": took.as_secs_f64()}),
                        );
                    }
                    Err(e) => {
                        say(
                            &format!("[{h}] gate back: FAILED after {}: {e}", secs(took)),
                            json!({"event": "gate", "gate": "back", "host": h, "ok": false, "detail": e, "seconds": took.as_secs_f64()}),
                        );
                        stop_why.push(format!("gate back failed for {h}: {e}"));
                    }
                }
            }
        }
        // A host whose group is not right once it is back is drained again, so the others
        // (which were serving alone and fine) carry the traffic while someone looks.
        let mut again = Vec::new();
        for (hosts, v, _) in &verdicts {
            if v.is_ok() {
                continue;
            }
            for h in work.iter().filter(|h| hosts.contains(h)) {
                let m = plan.methods.get(h).cloned().unwrap_or(Method::Nothing);
                match self.exec(plan, h, &host::drain(&m)).await {
                    Ok(_) => again.push(format!("{h} is drained again")),
                    Err(e) => again.push(format!("{h} could not be drained again: {e}")),
                }
            }
        }
        if let Some(plan) = st.plans.get_mut(&k) {
            for h in &work {
                plan.drained.remove(h);
            }
        }
        if !stop_why.is_empty() {
            let h = work.first().cloned().unwrap_or_default();
            if !again.is_empty() {
                stop_why.push(again.join(", "));
            }
            self.stop(st, k, &h, stop_why.join("; "));
            return false;
        }
        true
    }
}

/// Per host, why a check pass cannot promise that the real run changes nothing: a task
/// check mode skips or cannot run (its outcome is unknown until it really runs), or a
/// handler an earlier run left pending (the run will run it).
fn unpredictable(events: &[crate::engine::Event]) -> BTreeMap<String, String> {
    use crate::engine::Event;
    let mut out = BTreeMap::new();
    for e in events {
        match e {
            Event::Pending { host, name } => {
                out.entry(host.clone())
                    .or_insert_with(|| format!("handler '{name}' is pending from an earlier run"));
            }
            Event::Results { results, .. } => {
                for (host, r) in results {
                    let blind = r.items.iter().find_map(|i| {
                        let msg = i.outcome.result.get("msg").and_then(Value::as_str)?;
                        (i.outcome.status == crate::modules::Status::Skipped
                            && msg.contains("check mode"))
                        .then(|| msg.to_string())
                    });
                    if let Some(msg) = blind {
                        out.entry(host.clone())
                            .or_insert_with(|| format!("a task check mode cannot tell ({msg})"));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `host: entry` for each entry the map holds for the hosts, in their order.
fn per_host(hosts: &[String], map: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    hosts
        .iter()
        .filter_map(|h| map.get(h).map(|v| (h, v)))
        .flat_map(|(h, v)| v.iter().map(move |v| format!("{h}: {v}")))
        .collect()
}

/// The name of `host`'s instance that serves `vip`, else the VIP itself.
fn instance_of(fleet: &Fleet, host: &str, vip: IpAddr) -> String {
    fleet
        .vrids
        .iter()
        .filter(|v| v.vips.iter().any(|x| x.address == vip))
        .flat_map(|v| v.members.iter())
        .find(|m| m.host == host)
        .map_or_else(|| vip.to_string(), |m| m.instance.clone())
}

impl BatchHook for Rolling {
    fn batches<'a>(
        &'a self,
        play: &'a Play,
        hosts: &'a [String],
    ) -> BoxFuture<'a, anyhow::Result<Option<Vec<Vec<String>>>>> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            if st.stopped.is_some() {
                return Ok(Some(Vec::new()));
            }
            if !wanted(play, &self.s).map_err(|e| anyhow::anyhow!(e))? {
                return Ok(None);
            }
            let mut plan = self.make_plan(play, hosts).await?;
            let k = key(play);
            if let Err(why) = self.preflight(&mut plan).await {
                st.plans.insert(k, plan);
                if let Some(p) = st.plans.get_mut(&k) {
                    // Every batch is untouched.
                    p.at = usize::MAX - 1;
                }
                let untouched: Vec<String> = hosts.to_vec();
                say(
                    &format!("REFUSED: {why}"),
                    json!({"event": "rolling_stop", "host": "", "reason": why, "untouched": untouched}),
                );
                st.stopped = Some(why);
                return Ok(Some(Vec::new()));
            }
            let batches = plan.batches.clone();
            st.plans.insert(k, plan);
            Ok(Some(batches))
        })
    }

    fn before<'a>(&'a self, play: &'a Play, batch: &'a [String]) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            if st.stopped.is_some() {
                return false;
            }
            let k = key(play);
            let Some(plan) = st.plans.get_mut(&k) else {
                return true;
            };
            if let Some(i) = plan.batches.iter().position(|b| b == batch) {
                plan.at = i;
            }
            if self.s.check {
                for h in batch.iter().filter(|h| plan.in_service(h)) {
                    let m = plan
                        .methods
                        .get(h)
                        .map(Method::describe)
                        .unwrap_or_default();
                    say(
                        &format!(
                            "[{h}] check mode: would drain by {m}, then gate, apply, undrain (nothing is drained now)"
                        ),
                        json!({"event": "drain", "host": h, "method": m, "check": true}),
                    );
                }
                return true;
            }
            let settled = match st.plans.get(&k) {
                Some(plan) => self.settled(plan, play, batch).await,
                None => BTreeSet::new(),
            };
            let rest: Vec<String> = batch
                .iter()
                .filter(|h| !settled.contains(*h))
                .cloned()
                .collect();
            self.drain_batch(&mut st, k, &rest).await
        })
    }

    fn after<'a>(
        &'a self,
        play: &'a Play,
        batch: &'a [String],
        failed: &'a [String],
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            if st.stopped.is_some() {
                return false;
            }
            if self.s.check {
                return true;
            }
            let k = key(play);
            self.undrain_batch(&mut st, k, batch, failed).await
        })
    }
}
