//! The VRRP state machine: a pure function of events and time, with no I/O inside.
