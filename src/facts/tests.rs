use super::*;

/// What script.sh printed on a Debian 12 test host.
const DEBIAN: &str = "@@ uname
h1
Linux
6.18.44
x86_64
@@ fqdn
h1.example.net
@@ os-release
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION_CODENAME=bookworm
ID=debian
@@ debian_version
12.11
@@ redhat-release
@@ cpus
2
@@ meminfo
MemTotal:       24683656 kB
@@ init
systemd
/lib/systemd/systemd
@@ pkg
apt-get
@@ user
root
@@ addr
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 198.51.100.11/24 brd 198.51.100.255 scope global eth0\\       valid_lft forever
2: eth0    inet 198.51.100.100/32 scope global eth0\\       valid_lft forever
@@ link
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3a:52:4d:02:cf:c4 brd ff:ff:ff:ff:ff:ff link-netnsid 0
@@ route
8.8.8.8 via 198.51.100.2 dev eth0 src 198.51.100.11 uid 0
@@ end
";

#[test]
fn debian_host() {
    let f = parse(DEBIAN);
    assert_eq!(f["ansible_hostname"], "h1");
    assert_eq!(f["ansible_fqdn"], "h1.example.net");
    assert_eq!(f["ansible_domain"], "example.net");
    assert_eq!(f["ansible_distribution"], "Debian");
    assert_eq!(f["ansible_distribution_version"], "12.11");
    assert_eq!(f["ansible_distribution_major_version"], "12");
    assert_eq!(f["ansible_distribution_release"], "bookworm");
    assert_eq!(f["ansible_os_family"], "Debian");
    assert_eq!(f["ansible_processor_vcpus"], 2);
    assert_eq!(f["ansible_memtotal_mb"], 24105);
    assert_eq!(f["ansible_service_mgr"], "systemd");
    assert_eq!(f["ansible_pkg_mgr"], "apt");
    assert_eq!(f["ansible_interfaces"], json!(["lo", "eth0"]));
    assert_eq!(
        f["ansible_all_ipv4_addresses"],
        json!(["198.51.100.11", "198.51.100.100"])
    );
    let d = &f["ansible_default_ipv4"];
    assert_eq!(d["address"], "198.51.100.11");
    assert_eq!(d["interface"], "eth0");
    assert_eq!(d["gateway"], "198.51.100.2");
    assert_eq!(d["netmask"], "255.255.255.0");
    assert_eq!(d["network"], "198.51.100.0");
    assert_eq!(d["prefix"], "24");
    assert_eq!(d["macaddress"], "3a:52:4d:02:cf:c4");
    assert_eq!(d["mtu"], 1500);
}

#[test]
fn no_default_route_gives_an_empty_default_ipv4() {
    let without_route = DEBIAN.replace(
        "8.8.8.8 via 198.51.100.2 dev eth0 src 198.51.100.11 uid 0\n",
        "",
    );
    let f = parse(&without_route);
    assert_eq!(f["ansible_default_ipv4"], json!({}));
}

#[test]
fn garbage_never_panics() {
    for input in [
        "",
        "@@",
        "@@ addr\n2: eth0 inet /x",
        "@@ link\n: : :",
        "@@ meminfo\nMemTotal: x",
    ] {
        let _ = parse(input);
    }
}
