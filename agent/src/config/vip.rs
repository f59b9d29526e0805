//! One `virtual_ipaddress` entry: `ADDR[/PREFIX] [dev IF] [brd ADDR] [label L] [scope S]`.

use std::net::{IpAddr, Ipv4Addr};

use super::model::VirtualIp;
use super::parse::Ctx;
use super::tree::Stmt;
use super::values::unsigned;

/// One `virtual_ipaddress` entry. keepalived skips an entry it cannot read, with a warning.
pub(crate) fn vip(ctx: &mut Ctx, s: &Stmt) -> Option<VirtualIp> {
    let text = s.keyword();
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let Ok(addr) = addr.parse::<IpAddr>() else {
        ctx.warn(
            &s.loc,
            format!("VRRP parsed invalid IP {text}. skipping IP..."),
        );
        return None;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => match unsigned(p, 0, u32::from(max)).and_then(|p| u8::try_from(p).ok()) {
            Some(p) => p,
            None => {
                ctx.warn(
                    &s.loc,
                    format!("Invalid address prefix len {p} for address {text} - using {max}"),
                );
                max
            }
        },
    };
    let mut vip = VirtualIp {
        addr,
        prefix,
        dev: None,
        brd: None,
        label: None,
        scope: None,
        no_track: false,
    };
    let mut words = s.words[1..].iter();
    while let Some(option) = words.next() {
        // keepalived's one flag without a value that the agent implements.
        if option == "no_track" {
            vip.no_track = true;
            continue;
        }
        let Some(value) = words.next() else {
            ctx.warn(
                &s.loc,
                format!("virtual address {text}: '{option}' needs a value - ignoring it"),
            );
            break;
        };
        match option.as_str() {
            "dev" => vip.dev = Some(value.clone()),
            "label" => vip.label = Some(value.clone()),
            "scope" => match value.as_str() {
                "global" | "site" | "link" | "host" | "nowhere" => vip.scope = Some(value.clone()),
                _ => ctx.warn(
                    &s.loc,
                    format!("Invalid scope '{value}' specified for {text} - ignoring"),
                ),
            },
            "brd" => match value.parse::<Ipv4Addr>() {
                Ok(b) => vip.brd = Some(b),
                Err(_) => ctx.warn(
                    &s.loc,
                    format!("Invalid broadcast address '{value}' for {text} - ignoring"),
                ),
            },
            _ => {
                ctx.warn(
                    &s.loc,
                    format!("Unknown configuration entry '{option}' for ip address - ignoring"),
                );
                break;
            }
        }
    }
    Some(vip)
}
