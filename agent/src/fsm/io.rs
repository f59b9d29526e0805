//! What goes into the state machine (events) and what comes out (actions).

use std::net::IpAddr;
use std::time::Duration;

/// The RFC states of one virtual router instance. Also the `state` of `hactl-agent status
/// --json` (upper case, as keepalived names them), which the controller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Not started, or shut down.
    Init,
    /// Listening for the master; the master-down timer runs.
    Backup,
    /// Holding the virtual addresses and advertising.
    Master,
    /// An interface or tracked object is down: neither advertising nor listening.
    Fault,
}

impl State {
    /// The upper-case name keepalived logs and passes to notify scripts.
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }

    /// The state an instance is in once `notify` has been told about (STOP and DELETED leave
    /// it in INIT, as keepalived reports it).
    pub fn after(notify: NotifyState) -> Self {
        match notify {
            NotifyState::Master => State::Master,
            NotifyState::Backup => State::Backup,
            NotifyState::Fault => State::Fault,
            NotifyState::Stop | NotifyState::Deleted => State::Init,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for State {
    type Err = String;

    /// keepalived's names (its state dump and notify scripts use the same words).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "INIT" => Ok(State::Init),
            "BACKUP" => Ok(State::Backup),
            "MASTER" => Ok(State::Master),
            "FAULT" => Ok(State::Fault),
            other => Err(format!("unknown VRRP state '{other}'")),
        }
    }
}

/// The fields of a received, already checked advert that the state machine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdvertInfo {
    /// Sender's priority (0: the master is stopping).
    pub priority: u8,
    /// Sender's address (IP source), for the tie-break and status.
    pub source: IpAddr,
    /// The interval the sender advertises (v3 backups adopt it).
    pub advert_interval: Duration,
}

/// Something that happened to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The agent starts this instance.
    Startup,
    /// An advert for our VRID passed [`crate::packet::check()`].
    Advert(AdvertInfo),
    /// A timer the machine set is due. A timer that fires is disarmed (no CancelTimer
    /// follows); stale or early expiries are ignored.
    TimerExpired(Timer),
    /// Tracked objects now add `total` to the base priority (the sum of the weights of
    /// failing or succeeding tracks, keepalived's `total_priority - base_priority`).
    TrackWeight {
        /// Sum of weights currently in effect (may be negative).
        total: i32,
    },
    /// The interface or a weightless track went down. Several causes are the runtime's to
    /// combine: send this when the first goes down.
    Fault,
    /// Every fault cause is clear again.
    FaultCleared,
    /// The agent stops this instance.
    Shutdown,
    /// As MASTER, one of our VIPs, excluded addresses, tracked routes or tracked rules was
    /// deleted by someone else: keepalived's `set_vrrp_backup` (priority 0 advert, BACKUP,
    /// master again after Skew_Time unless a peer takes over).
    VipsDeleted,
    /// The operator drains the instance (`hactl-agent drain`): a master hands over as at a
    /// graceful stop (priority 0 advert, VIPs removed) and the instance stays BACKUP, never
    /// eligible for MASTER, until [`Event::Undrain`]. The daemon keeps running.
    Drain,
    /// The drain is over: a BACKUP arms its master-down timer afresh and takes part in
    /// elections again (preempting a lower-priority master as usual).
    Undrain,
}

/// The timers the machine runs; at most one deadline per timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// BACKUP: no advert from the master within Master_Down_Interval.
    MasterDown,
    /// MASTER: time to send the next advert.
    Advert,
    /// MASTER: the delayed second gratuitous ARP burst (`garp_master_delay`).
    Garp,
    /// MASTER: the delayed burst after a lower-priority advert (`garp_lower_prio_delay`).
    LowerPrioGarp,
}

/// Why the instance changed state: for notify scripts and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Instance start.
    Startup,
    /// Priority 255 with `state MASTER`: master without waiting.
    AddressOwner,
    /// The master-down timer ran out with no master heard.
    MasterDown,
    /// The master sent priority 0 and our skew time passed.
    MasterStopped,
    /// We outrank the current master and preempted it.
    Preempted,
    /// A higher priority (or equal priority, higher address) master appeared.
    HigherPriority,
    /// Interface or track failure.
    Fault,
    /// Fault cleared.
    FaultCleared,
    /// Agent shutdown.
    Shutdown,
    /// Another member of the sync group changed state and took this one along.
    SyncGroup,
    /// Someone else deleted one of our addresses, routes or rules.
    VipsDeleted,
    /// The operator drained the instance.
    Drained,
}

/// The state a notify script is told about (keepalived's notify_* words); the state machine
/// never reports `Deleted`, the runtime does when an instance leaves the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyState {
    /// notify_master
    Master,
    /// notify_backup
    Backup,
    /// notify_fault
    Fault,
    /// notify_stop
    Stop,
    /// notify_deleted
    Deleted,
}

impl NotifyState {
    /// The word keepalived passes to `notify` (and writes to a notify FIFO).
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
            NotifyState::Deleted => "DELETED",
        }
    }
}

/// Something the runtime must do, in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send one advert with this priority (0 on stop/fault), our addresses and interval.
    SendAdvert {
        /// Priority to put in the advert.
        priority: u8,
    },
    /// Add the virtual addresses to the interface.
    AddVips,
    /// Remove the virtual addresses.
    RemoveVips,
    /// Send a burst of gratuitous ARPs (unsolicited NAs for IPv6) for every VIP.
    SendGratuitousArp {
        /// Messages per address in this burst.
        repeat: u32,
    },
    /// `garp_extra_if`: one gratuitous ARP (unsolicited NA) for the first address on each
    /// interface other than the instance's own.
    SendExtraGarp,
    /// Arm `timer` for time `at` (replacing any earlier deadline).
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// Deadline, on the same clock as the events' `now`.
        at: Duration,
    },
    /// Disarm `timer`.
    CancelTimer(Timer),
    /// Run the notify scripts.
    Notify {
        /// New state.
        state: NotifyState,
        /// Why.
        reason: Reason,
    },
}
