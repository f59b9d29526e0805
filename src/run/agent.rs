//! Which hactl-agent binary a run installs, the architecture it is built for, and the version
//! string it must report. The shipped role reads them as the magic variables
//! `hactl_agent_path`, `hactl_agent_architecture` and `hactl_agent_version`, and refuses a host
//! whose `ansible_architecture` is not the agent's before copying anything.
//!
//! The agent hactl installs must run on any Linux host of its architecture (Debian, RHEL, old
//! or new C libraries), so without `HACTL_AGENT` only a *statically linked* agent is taken, the
//! first of:
//! 1. `hactl-agent` beside the running `hactl` (a `cargo install` of the musl build, or a
//!    package that put both in one folder);
//! 2. `../lib/hactl/hactl-agent` from hactl's folder (the Debian package: `/usr/lib/hactl`);
//! 3. the musl build of a checkout, `target/x86_64-unknown-linux-musl/agent/hactl-agent`, for a
//!    `hactl` in `target/<profile>/` (or a test binary in `target/<profile>/deps/`), which
//!    `cargo build --profile agent -p hactl-agent --target x86_64-unknown-linux-musl` makes.
//!
//! A dynamically linked agent (`target/debug/hactl-agent`) is never picked up on its own: it
//! needs the controller's C library on every host. `HACTL_AGENT=/path` names the binary to
//! install whatever it is; its architecture is still read from its ELF header.

use std::path::{Path, PathBuf};

/// The Rust target of the static agent build looked up in a checkout.
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-musl";

/// The cargo profile of the agent build (small code keeps its RSS under 5 MB).
pub const AGENT_PROFILE: &str = "agent";

/// What `hactl-agent --version` prints for the agent of this controller's build (both crates
/// share the workspace version).
pub fn expected_version() -> String {
    format!("hactl-agent {}", env!("CARGO_PKG_VERSION"))
}

/// The agent binary to install: `HACTL_AGENT` if set, else the first static agent of the
/// module doc's list.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HACTL_AGENT") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    candidates(&exe).into_iter().find(|p| {
        std::fs::read(p)
            .ok()
            .and_then(|bytes| Elf::parse(&bytes))
            .is_some_and(|elf| elf.is_static)
    })
}

/// Where a static agent may be, for a controller at `exe`, in the order they are tried.
fn candidates(exe: &Path) -> Vec<PathBuf> {
    let Some(dir) = exe.parent() else {
        return Vec::new();
    };
    let mut out = vec![dir.join("hactl-agent")];
    if let Some(prefix) = dir.parent() {
        out.push(prefix.join("lib/hactl/hactl-agent"));
    }
    // target/<profile>/hactl, and target/<profile>/deps/<test> for integration tests.
    for target in dir.ancestors().skip(1).take(2) {
        out.push(
            target
                .join(STATIC_TARGET)
                .join(AGENT_PROFILE)
                .join("hactl-agent"),
        );
    }
    out
}

/// The architecture an agent binary runs on, in `ansible_architecture`'s words, or a
/// description of why it has none (the role then refuses every host, naming it).
pub fn architecture(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => match Elf::parse(&bytes) {
            Some(elf) => elf.architecture(),
            None => "unknown (not an ELF executable)".into(),
        },
        Err(e) => format!("unknown (cannot read it: {e})"),
    }
}

/// The magic variables, for every host of every play. `hactl_agent_path` and
/// `hactl_agent_architecture` are missing when no agent was found.
pub fn magic_vars() -> Vec<(&'static str, String)> {
    let mut vars = vec![("hactl_agent_version", expected_version())];
    if let Some(path) = binary() {
        vars.push(("hactl_agent_architecture", architecture(&path)));
        vars.push(("hactl_agent_path", path.display().to_string()));
    }
    vars
}

/// What the ELF header and program headers of a binary say about where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elf {
    /// `e_machine`.
    pub machine: u16,
    pub is_64: bool,
    pub little_endian: bool,
    /// No `PT_INTERP` program header: the kernel runs it without a dynamic loader, so it needs
    /// no C library on the host (static-pie binaries have `PT_DYNAMIC` but no interpreter).
    pub is_static: bool,
}

const PT_INTERP: u32 = 3;

impl Elf {
    /// Reads an ELF file's identification, machine and program headers; `None` when `bytes`
    /// is not a well-formed ELF file.
    pub fn parse(bytes: &[u8]) -> Option<Elf> {
        if bytes.get(..4)? != b"\x7fELF" {
            return None;
        }
        let is_64 = match bytes.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let little_endian = match bytes.get(5)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        let u16_at = |off: usize| -> Option<u16> {
            let b: [u8; 2] = bytes.get(off..off + 2)?.try_into().ok()?;
            Some(if little_endian {
                u16::from_le_bytes(b)
            } else {
                u16::from_be_bytes(b)
            })
        };
        let u32_at = |off: usize| -> Option<u32> {
            let b: [u8; 4] = bytes.get(off..off + 4)?.try_into().ok()?;
            Some(if little_endian {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            })
        };
        let u64_at = |off: usize| -> Option<u64> {
            let b: [u8; 8] = bytes.get(off..off + 8)?.try_into().ok()?;
            Some(if little_endian {
                u64::from_le_bytes(b)
            } else {
                u64::from_be_bytes(b)
            })
        };
        let machine = u16_at(18)?;
        let (phoff, phentsize, phnum) = if is_64 {
            (usize::try_from(u64_at(32)?).ok()?, u16_at(54)?, u16_at(56)?)
        } else {
            (usize::try_from(u32_at(28)?).ok()?, u16_at(42)?, u16_at(44)?)
        };
        let mut is_static = true;
        for i in 0..usize::from(phnum) {
            let off = phoff.checked_add(i.checked_mul(usize::from(phentsize))?)?;
            if u32_at(off)? == PT_INTERP {
                is_static = false;
            }
        }
        Some(Elf {
            machine,
            is_64,
            little_endian,
            is_static,
        })
    }

    /// The machine as `ansible_architecture` (Python's `platform.machine()`, `uname -m`) names
    /// it on Linux. 32-bit ARM has no single name (armv6l, armv7l...), so it matches no host.
    pub fn architecture(&self) -> String {
        match (self.machine, self.is_64, self.little_endian) {
            (62, true, _) => "x86_64".into(),
            (3, false, _) => "i386".into(),
            (183, true, _) => "aarch64".into(),
            (21, true, true) => "ppc64le".into(),
            (21, true, false) => "ppc64".into(),
            (22, true, _) => "s390x".into(),
            (243, true, _) => "riscv64".into(),
            (40, false, _) => "arm (32-bit)".into(),
            (m, _, _) => format!("unknown (ELF machine {m})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF header for `machine` with one program header of
    /// type `ptype`.
    fn elf64(machine: u16, ptype: u32) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        b[64..68].copy_from_slice(&ptype.to_le_bytes());
        b
    }

    #[test]
    fn reads_machine_and_interpreter() {
        let load = Elf::parse(&elf64(62, 1)).expect("parses");
        assert_eq!(load.architecture(), "x86_64");
        assert!(load.is_static);
        let dynamic = Elf::parse(&elf64(183, PT_INTERP)).expect("parses");
        assert_eq!(dynamic.architecture(), "aarch64");
        assert!(!dynamic.is_static);
    }

    #[test]
    fn refuses_what_is_not_elf_or_truncated() {
        assert_eq!(Elf::parse(b"#!/bin/sh\n"), None);
        let mut truncated = elf64(62, 1);
        truncated.truncate(66);
        assert_eq!(Elf::parse(&truncated), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_running_test_binary_is_read() {
        // The test binary is a real, dynamically linked ELF file of this machine.
        let exe = std::env::current_exe().expect("exe");
        assert_eq!(architecture(&exe), "x86_64");
        let elf = Elf::parse(&std::fs::read(&exe).expect("read")).expect("ELF");
        assert!(!elf.is_static);
    }

    #[test]
    fn a_checkout_finds_the_musl_build_from_target_profile_and_deps() {
        let c = candidates(Path::new("/src/target/debug/deps/apply-1234"));
        assert!(c.contains(&PathBuf::from(
            "/src/target/x86_64-unknown-linux-musl/agent/hactl-agent"
        )));
        let c = candidates(Path::new("/usr/bin/hactl"));
        assert_eq!(c[0], PathBuf::from("/usr/bin/hactl-agent"));
        assert_eq!(c[1], PathBuf::from("/usr/lib/hactl/hactl-agent"));
    }
}
