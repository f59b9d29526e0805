//! `track_interface`: which tracked interfaces are up, fed by `network::link` events.
//!
//! keepalived counts an interface as up when it is both administratively up and running
//! (`IFF_UP|IFF_RUNNING`); a deleted interface is down.

use std::collections::BTreeMap;

use crate::network::LinkEvent;

/// Up/down state of the interfaces one or more instances track, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceTracker {
    up: BTreeMap<String, bool>,
}

impl InterfaceTracker {
    /// Tracks `names`, all down until an event or query says otherwise.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(names: I) -> Self {
        InterfaceTracker {
            up: names.into_iter().map(|n| (n.into(), false)).collect(),
        }
    }

    /// Whether `name` is tracked and up.
    pub fn is_up(&self, name: &str) -> bool {
        self.up.get(name).copied().unwrap_or(false)
    }

    /// Applies a link event; returns `(name, up)` if a tracked interface changed.
    pub fn apply(&mut self, event: &LinkEvent) -> Option<(String, bool)> {
        let slot = self.up.get_mut(&event.ifname)?;
        let up = event.up && !event.removed;
        if *slot == up {
            return None;
        }
        *slot = up;
        Some((event.ifname.clone(), up))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::OperState;

    fn event(name: &str, up: bool, removed: bool) -> LinkEvent {
        LinkEvent {
            ifindex: 7,
            ifname: name.into(),
            oper: if up { OperState::Up } else { OperState::Down },
            up,
            removed,
        }
    }

    #[test]
    fn reports_only_changes_of_tracked_interfaces() {
        let mut t = InterfaceTracker::new(["eth1"]);
        assert!(!t.is_up("eth1"));
        assert_eq!(t.apply(&event("eth0", true, false)), None);
        assert_eq!(
            t.apply(&event("eth1", true, false)),
            Some(("eth1".into(), true))
        );
        assert_eq!(t.apply(&event("eth1", true, false)), None);
        assert!(t.is_up("eth1"));
        assert_eq!(
            t.apply(&event("eth1", false, true)),
            Some(("eth1".into(), false))
        );
    }
}
