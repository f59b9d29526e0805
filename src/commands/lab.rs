//! `hactl lab up|down|list|ssh|exec`: a local lab of real hosts (see [`crate::lab`]).
//!
//! Commands that talk to the lab run in its controller namespace: `ssh` and `exec` replace
//! hactl with `ip netns exec LAB-ctl ...`. `exec` rather than a `--lab` option on `apply`,
//! `run` and `status`: one way covers every command (hactl's, ansible-playbook, curl, ssh), and
//! the namespace itself, which has no route out, is what keeps the traffic in the lab; an
//! option would have to be added to, and honoured by, each command that connects.

use std::os::unix::process::CommandExt as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{LabCommand, LabDownArgs, LabExecArgs, LabSshArgs, LabUpArgs};
use crate::lab::{self, Event, Lab, Spec};
use crate::report;

/// Runs one `hactl lab` subcommand.
pub fn run(cmd: &LabCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LabCommand::Up(args) => up(args),
        LabCommand::Down(args) => down(args),
        LabCommand::List => list(),
        LabCommand::Ssh(args) => ssh(args),
        LabCommand::Exec(args) => exec(args),
    }
}

fn up(args: &LabUpArgs) -> anyhow::Result<ExitCode> {
    let spec = Spec::new(
        &args.name,
        args.count,
        args.names.as_deref(),
        &args.net,
        args.keepalived,
    )?;
    let start = std::time::Instant::now();
    let progress = report::progress(&format!("booting lab '{}'", spec.name), spec.hosts.len());
    let mut notes = Vec::new();
    let result = lab::up(&spec, |event| match event {
        Event::Boot(h) => progress.host_started(&h),
        Event::Up(h) => progress.host_done(&h, false),
        Event::Line(l) => notes.push(l),
    });
    progress.finish();
    let lab = result?;
    for note in notes {
        report::warning(note.trim_start_matches("fleet: "));
    }
    let took = start.elapsed().as_secs_f64();
    report::out(&format!(
        "lab '{}' is up: {} hosts on {}.0/24 in {took:.1}s; reach them from its controller \
         namespace only:",
        lab.name,
        lab.hosts.len(),
        lab.net
    ));
    let flag = if lab.name == lab::DEFAULT_NAME {
        String::new()
    } else {
        format!(" -n {}", lab.name)
    };
    let first = lab.hosts.first().map_or("HOST", |(h, _)| h.as_str());
    report::out(&format!(
        "  hactl lab exec{flag} -- hactl apply inventory/hosts.ini"
    ));
    report::out(&format!("  hactl lab ssh{flag} {first}"));
    report::out(&format!("  hactl lab down {}", lab.name));
    for (title, file) in [("inventory", "inventory.ini"), ("ssh config", "ssh_config")] {
        let path = lab.state.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        report::out("");
        report::out(&format!("# {title}: {}", path.display()));
        for line in text.lines() {
            report::out(line);
        }
    }
    report::out("");
    report::out(&lab.state.display().to_string());
    Ok(ExitCode::SUCCESS)
}

fn down(args: &LabDownArgs) -> anyhow::Result<ExitCode> {
    lab::require_root("down")?;
    let labs: Vec<Lab> = if args.all {
        lab::list()
    } else {
        vec![lab::find(args.name.as_deref())?]
    };
    for l in &labs {
        let start = std::time::Instant::now();
        lab::down(l)?;
        report::out(&format!(
            "lab '{}' is down ({:.1}s)",
            l.name,
            start.elapsed().as_secs_f64()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn list() -> anyhow::Result<ExitCode> {
    let labs = lab::list();
    if labs.is_empty() {
        report::out("no lab is up");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 5]> = labs
        .iter()
        .map(|l| {
            let hosts = l
                .hosts
                .iter()
                .map(|(h, a)| format!("{h} .{}", a.rsplit('.').next().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ");
            [
                l.name.clone(),
                format!("{}.0/24", l.net),
                hosts,
                format!("{}/{}", l.running(), l.hosts.len()),
                l.state.display().to_string(),
            ]
        })
        .collect();
    let head = ["NAME", "RANGE", "HOSTS", "RUNNING", "STATE"].map(String::from);
    let mut widths = head.clone().map(|h| h.len());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    for r in std::iter::once(&head).chain(&rows) {
        let line = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        report::out(line.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

fn ssh(args: &LabSshArgs) -> anyhow::Result<ExitCode> {
    lab::require_root("ssh")?;
    let l = lab::find(args.name.as_deref())?;
    let addr = l.addr(&args.host)?.to_string();
    let err = l
        .ctl_command("ssh".as_ref())
        .arg("-F")
        .arg(l.state.join("ssh_config"))
        .arg(addr)
        .args(&args.command)
        .exec();
    Err(err).context("cannot run ip netns exec ... ssh")
}

fn exec(args: &LabExecArgs) -> anyhow::Result<ExitCode> {
    lab::require_root("exec")?;
    let l = lab::find(args.name.as_deref())?;
    let (program, rest) = args
        .command
        .split_first()
        .context("exec: which command? (hactl lab exec -- COMMAND ...)")?;
    let err = l.ctl_command(program.as_ref()).args(rest).exec();
    Err(err).with_context(|| format!("cannot run ip netns exec {} {program}", l.ctl_namespace()))
}
