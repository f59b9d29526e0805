//! The `virtual` collector: Ansible's LinuxVirtual checks, in its order (the first match sets
//! type and role; every match adds to `virtualization_tech_guest`/`_host`). A systemd-nspawn
//! container is "container" here, as Ansible reports it (pid 1's `container=` comes first).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Raw;

struct State {
    kind: Option<String>,
    role: Option<String>,
    found: bool,
    guest: BTreeSet<String>,
    host: BTreeSet<String>,
}

impl State {
    /// A guest technology; sets type and role when nothing was found before.
    fn guest_found(&mut self, tech: &str, kind: &str) {
        self.guest.insert(tech.into());
        if !self.found {
            self.kind = Some(kind.into());
            self.role = Some("guest".into());
            self.found = true;
        }
    }
}

/// Adds `virtualization_*`.
pub fn collect(raw: &Raw, f: &mut Map<String, Value>) {
    let exists = |p: &str| raw.exists.iter().any(|e| e == p);
    let mut s = State {
        kind: None,
        role: None,
        found: false,
        guest: BTreeSet::new(),
        host: BTreeSet::new(),
    };
    let docker = regex::Regex::new(r"/docker(/|-[0-9a-f]+\.scope)").ok();
    if exists("/proc/1/cgroup") {
        for line in raw.files.get("/proc/1/cgroup").into_iter().flatten() {
            if docker.as_ref().is_some_and(|r| r.is_match(line)) {
                s.guest_found("docker", "docker");
            }
            if line.contains("/lxc/") || line.contains("/machine.slice/machine-lxc") {
                s.guest_found("lxc", "lxc");
            }
            if line.contains("/system.slice/containerd.service") {
                s.guest_found("containerd", "containerd");
            }
        }
    }
    if exists("/proc/1/environ") {
        // NUL-separated entries (grep -z), as Ansible splits /proc/1/environ.
        let text = raw.get("pid1-environ").join("\n");
        for line in text.split('\0').map(|l| l.trim_matches('\n')) {
            if line.contains("container=lxc") {
                s.guest_found("lxc", "lxc");
            }
            if line.contains("container=podman") {
                s.guest_found("podman", "podman");
            }
            if line.starts_with("container=") && line.len() > "container=".len() {
                s.guest_found("container", "container");
            }
        }
    }
    if exists("/proc/vz") && !exists("/proc/lve") {
        s.kind = Some("openvz".into());
        if exists("/proc/bc") {
            s.host.insert("openvz".into());
            if !s.found {
                s.role = Some("host".into());
            }
        } else {
            s.guest.insert("openvz".into());
            if !s.found {
                s.role = Some("guest".into());
            }
        }
        s.found = true;
    }
    let systemd_container = raw.file("/run/systemd/container").unwrap_or_default();
    if !systemd_container.is_empty() {
        s.guest_found(&systemd_container, &systemd_container);
    }
    if exists("/.dockerenv") || exists("/.dockerinit") {
        s.guest_found("docker", "docker");
    }
    if ["docker", "lxc", "podman", "openvz", "containerd"]
        .iter()
        .any(|t| s.guest.contains(*t))
        || !systemd_container.is_empty()
    {
        s.guest.insert("container".into());
    }
    if exists("/proc/xen") {
        let xen_host = raw
            .files
            .get("/proc/xen/capabilities")
            .into_iter()
            .flatten()
            .any(|l| l.contains("control_d"));
        if xen_host {
            s.host.insert("xen".into());
            if !s.found {
                s.kind = Some("xen".into());
                s.role = Some("host".into());
            }
        } else if !s.found {
            s.kind = Some("xen".into());
            s.role = Some("guest".into());
        }
        s.found = true;
    }
    if !s.found {
        s.role = Some("guest".into());
    }
    let dmi = |n: &str| raw.file(&format!("/sys/devices/virtual/dmi/id/{n}"));
    let product_name = dmi("product_name");
    let sys_vendor = dmi("sys_vendor");
    let product_family = dmi("product_family");
    let bios_vendor = dmi("bios_vendor");
    let pn = product_name.as_deref().unwrap_or_default();
    let sv = sys_vendor.as_deref().unwrap_or_default();
    let bv = bios_vendor.as_deref().unwrap_or_default();
    // From here a match sets only the type (the role stays as set above).
    let type_only = |s: &mut State, tech: &str| {
        s.guest.insert(tech.into());
        if !s.found {
            s.kind = Some(tech.into());
            s.found = true;
        }
    };
    if [
        "KVM",
        "KVM Server",
        "Bochs",
        "AHV",
        "CloudStack KVM Hypervisor",
    ]
    .contains(&pn)
    {
        type_only(&mut s, "kvm");
    }
    if sv == "oVirt" {
        type_only(&mut s, "oVirt");
    }
    if sv == "Red Hat" {
        if product_family.as_deref() == Some("RHV") {
            type_only(&mut s, "RHV");
        } else if pn == "RHEV Hypervisor" {
            type_only(&mut s, "RHEV");
        }
    }
    if pn.starts_with("VMware") {
        type_only(&mut s, "VMware");
    }
    if ["OpenStack Compute", "OpenStack Nova"].contains(&pn) {
        type_only(&mut s, "openstack");
    }
    if bv == "Xen" {
        type_only(&mut s, "xen");
    }
    if bv == "innotek GmbH" {
        type_only(&mut s, "virtualbox");
    }
    if ["Amazon EC2", "DigitalOcean", "Hetzner", "Linode"].contains(&bv) {
        type_only(&mut s, "kvm");
    }
    if [
        "QEMU",
        "Amazon EC2",
        "DigitalOcean",
        "Google",
        "Scaleway",
        "Nutanix",
    ]
    .contains(&sv)
    {
        type_only(&mut s, "kvm");
    }
    if sv == "KubeVirt" {
        type_only(&mut s, "KubeVirt");
    }
    if sv == "Microsoft Corporation" {
        type_only(&mut s, "VirtualPC");
    }
    if sv == "Parallels Software International Inc." {
        type_only(&mut s, "parallels");
    }
    if sv == "OpenStack Foundation" {
        type_only(&mut s, "openstack");
    }
    if !s.found {
        s.role = None;
    }
    for line in raw.files.get("/proc/self/status").into_iter().flatten() {
        if let Some(rest) = line.strip_prefix("VxID:") {
            let id = rest.trim_start();
            if !rest.starts_with(char::is_whitespace)
                || !id.starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            if !s.found {
                s.kind = Some("linux_vserver".into());
            }
            if id.starts_with('0') {
                s.host.insert("linux_vserver".into());
                if !s.found {
                    s.role = Some("host".into());
                }
            } else {
                s.guest.insert("linux_vserver".into());
                if !s.found {
                    s.role = Some("guest".into());
                }
            }
            s.found = true;
        }
    }
    let pattern = |p: &str| regex::Regex::new(p).ok();
    let cpu_checks: Vec<(Option<regex::Regex>, &str)> = vec![
        (pattern("^model name.*QEMU Virtual CPU"), "kvm"),
        (pattern("^vendor_id.*User Mode Linux"), "uml"),
        (pattern("^model name.*UML"), "uml"),
        (
            pattern("^machine.*CHRP IBM pSeries .emulated by qemu."),
            "kvm",
        ),
        (pattern("^vendor_id.*PowerVM Lx86"), "powervm_lx86"),
    ];
    for line in raw.files.get("/proc/cpuinfo").into_iter().flatten() {
        if line.starts_with("vendor_id") && line.contains("IBM/S390") {
            // Ansible asks lscpu for the hypervisor here; hactl does not run it.
            s.guest.insert("PR/SM".into());
            if !s.found {
                s.kind = Some("PR/SM".into());
                s.role = Some("LPAR".into());
                s.found = true;
            }
            continue;
        }
        let Some(tech) = cpu_checks
            .iter()
            .find(|(r, _)| r.as_ref().is_some_and(|r| r.is_match(line)))
            .map(|(_, t)| *t)
        else {
            continue;
        };
        s.guest.insert(tech.into());
        if !s.found {
            s.kind = Some(tech.into());
            s.role = Some("guest".into());
            s.found = true;
        }
    }
    let modules: BTreeSet<&str> = raw
        .files
        .get("/proc/modules")
        .into_iter()
        .flatten()
        .filter_map(|l| l.split(' ').next())
        .collect();
    if modules.contains("kvm") {
        s.host.insert("kvm".into());
        if !s.found {
            s.kind = Some("kvm".into());
            s.role = Some("host".into());
        }
        if exists("/rhev")
            && raw
                .get("comms")
                .iter()
                .any(|c| c.trim() == "vdsm" || c.trim() == "vdsmd")
        {
            s.host.insert("RHEV".into());
            if !s.found {
                s.kind = Some("RHEV".into());
            }
        }
        s.found = true;
    }
    if modules.contains("vboxdrv") {
        s.host.insert("virtualbox".into());
        if !s.found {
            s.kind = Some("virtualbox".into());
            s.role = Some("host".into());
            s.found = true;
        }
    }
    if modules.contains("virtio") {
        s.host.insert("kvm".into());
        if !s.found {
            s.kind = Some("kvm".into());
            s.role = Some("guest".into());
            s.found = true;
        }
    }
    if let Some(out) = raw.section("dmidecode") {
        let vendor: String = out
            .iter()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.trim())
            .collect();
        if vendor.starts_with("VMware") {
            s.guest_found("VMware", "VMware");
        }
        if out.iter().any(|l| l.contains("BHYVE")) {
            s.guest_found("bhyve", "bhyve");
        }
    }
    if exists("/dev/kvm") {
        s.host.insert("kvm".into());
        if !s.found {
            s.kind = Some("kvm".into());
            s.role = Some("host".into());
            s.found = true;
        }
    }
    if !s.found {
        s.kind = Some("NA".into());
        s.role = Some("NA".into());
    }
    if let Some(kind) = s.kind {
        f.insert("ansible_virtualization_type".into(), json!(kind));
    }
    if let Some(role) = s.role {
        f.insert("ansible_virtualization_role".into(), json!(role));
    }
    f.insert(
        "ansible_virtualization_tech_guest".into(),
        json!(s.guest.into_iter().collect::<Vec<_>>()),
    );
    f.insert(
        "ansible_virtualization_tech_host".into(),
        json!(s.host.into_iter().collect::<Vec<_>>()),
    );
}
