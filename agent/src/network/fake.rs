//! In-memory stand-ins for the network edges, for tests of code that drives them: the
//! ownership rule of addresses, and whole instance tasks ([`FakeStack`] runs the daemon's own
//! instance code, `runtime::instance`, without a kernel). They record what was asked of them
//! and never touch the kernel. Clones share state, so a test keeps a handle on what it gave
//! away.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rtnetlink::packet_route::RouteNetlinkMessage;
use tokio::sync::mpsc;

use super::addr::{AddressIo, InterfaceAddress, Vip};
use super::garp::GarpIo;
use super::route::RouteIo;
use super::vmac::{self, ExistingLink, Plan};
use super::{NetError, ReceivedPacket, Stack, VmacLink, VmacRequest, VrrpIo, VrrpSocketConfig};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock has failed already; keep the data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The addresses of a pretend kernel, and the route/rule requests it was sent.
#[derive(Debug, Clone, Default)]
pub struct FakeAddresses {
    addrs: Arc<Mutex<Vec<InterfaceAddress>>>,
    route_requests: Arc<Mutex<Vec<RouteNetlinkMessage>>>,
}

impl FakeAddresses {
    pub fn new(initial: Vec<InterfaceAddress>) -> Self {
        FakeAddresses {
            addrs: Arc::new(Mutex::new(initial)),
            route_requests: Arc::default(),
        }
    }

    /// What is on the interfaces now.
    pub fn snapshot(&self) -> Vec<InterfaceAddress> {
        lock(&self.addrs).clone()
    }

    /// The route and rule requests so far.
    pub fn route_requests(&self) -> Vec<RouteNetlinkMessage> {
        lock(&self.route_requests).clone()
    }
}

impl AddressIo for FakeAddresses {
    async fn add(&self, vip: &Vip) -> Result<(), NetError> {
        lock(&self.addrs).push(InterfaceAddress {
            ifindex: vip.ifindex,
            addr: vip.addr,
            prefix_len: vip.prefix_len,
            label: vip.label.clone(),
        });
        Ok(())
    }

    async fn del(&self, addr: &InterfaceAddress) -> Result<(), NetError> {
        lock(&self.addrs).retain(|a| {
            (a.ifindex, a.addr, a.prefix_len) != (addr.ifindex, addr.addr, addr.prefix_len)
        });
        Ok(())
    }

    async fn list(&self, ifindex: u32) -> Result<Vec<InterfaceAddress>, NetError> {
        Ok(lock(&self.addrs)
            .iter()
            .filter(|a| a.ifindex == ifindex)
            .cloned()
            .collect())
    }
}

impl RouteIo for FakeAddresses {
    async fn request(
        &self,
        payload: RouteNetlinkMessage,
        _flags: u16,
    ) -> Result<Result<(), i32>, NetError> {
        lock(&self.route_requests).push(payload);
        Ok(Ok(()))
    }
}

/// One packet handed to [`FakeVrrp::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPacket {
    pub payload: Vec<u8>,
    pub dst: IpAddr,
    /// The pinned source address, if any.
    pub src: Option<IpAddr>,
}

/// A VRRP socket whose sent packets are recorded and whose received packets come from a
/// channel the test feeds.
#[derive(Debug, Clone)]
pub struct FakeVrrp {
    sent: Arc<Mutex<Vec<SentPacket>>>,
    inbox: Arc<tokio::sync::Mutex<mpsc::Receiver<ReceivedPacket>>>,
}

impl FakeVrrp {
    /// The fake and the sender that delivers packets to its `recv`.
    pub fn new() -> (Self, mpsc::Sender<ReceivedPacket>) {
        let (tx, rx) = mpsc::channel(64);
        let fake = FakeVrrp {
            sent: Arc::default(),
            inbox: Arc::new(tokio::sync::Mutex::new(rx)),
        };
        (fake, tx)
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<SentPacket> {
        lock(&self.sent).clone()
    }
}

impl VrrpIo for FakeVrrp {
    async fn send(&self, payload: &[u8], dst: IpAddr, src: Option<IpAddr>) -> Result<(), NetError> {
        lock(&self.sent).push(SentPacket {
            payload: payload.to_vec(),
            dst,
            src,
        });
        Ok(())
    }

    async fn recv(&self) -> Result<ReceivedPacket, NetError> {
        match self.inbox.lock().await.recv().await {
            Some(p) => Ok(p),
            // The test dropped its sender: behave like a socket that never hears anything.
            None => std::future::pending().await,
        }
    }
}

/// Records gratuitous ARPs instead of sending them.
#[derive(Debug, Clone, Default)]
pub struct FakeGarp {
    sent: Arc<Mutex<Vec<IpAddr>>>,
}

impl FakeGarp {
    pub fn sent(&self) -> Vec<IpAddr> {
        lock(&self.sent).clone()
    }
}

impl GarpIo for FakeGarp {
    async fn send_garp(&self, vip: IpAddr) -> Result<(), NetError> {
        lock(&self.sent).push(vip);
        Ok(())
    }
}

/// A pretend host for whole instance tasks: named interfaces, one shared VRRP socket, one
/// GARP recorder and one address table. Every instance opened on it shares them.
#[derive(Debug, Clone)]
pub struct FakeStack {
    /// (name, ifindex)
    pub interfaces: Vec<(String, u32)>,
    pub vrrp: FakeVrrp,
    pub garp: FakeGarp,
    pub net: FakeAddresses,
    /// The socket settings of every `open_vrrp`.
    opened: Arc<Mutex<Vec<VrrpSocketConfig>>>,
    /// The VMACs made by `setup_vmac` and not removed yet: (name, ifindex).
    vmacs: Arc<Mutex<Vec<(String, u32)>>>,
    /// The interface of every `open_garp`.
    garp_opened: Arc<Mutex<Vec<String>>>,
}

impl FakeStack {
    /// A host with `interfaces` holding `addresses`; the sender feeds the VRRP socket.
    pub fn new(
        interfaces: &[(&str, u32)],
        addresses: Vec<InterfaceAddress>,
    ) -> (Self, mpsc::Sender<ReceivedPacket>) {
        let (vrrp, inbox) = FakeVrrp::new();
        let stack = FakeStack {
            interfaces: interfaces
                .iter()
                .map(|(n, i)| ((*n).to_owned(), *i))
                .collect(),
            vrrp,
            garp: FakeGarp::default(),
            net: FakeAddresses::new(addresses),
            opened: Arc::default(),
            vmacs: Arc::default(),
            garp_opened: Arc::default(),
        };
        (stack, inbox)
    }

    /// The socket settings asked for so far.
    pub fn opened(&self) -> Vec<VrrpSocketConfig> {
        lock(&self.opened).clone()
    }

    /// The interfaces gratuitous ARP senders were opened on so far.
    pub fn garp_opened(&self) -> Vec<String> {
        lock(&self.garp_opened).clone()
    }

    /// The VMACs that exist now.
    pub fn vmacs(&self) -> Vec<(String, u32)> {
        lock(&self.vmacs).clone()
    }
}

impl Stack for FakeStack {
    type Vrrp = FakeVrrp;
    type Garp = FakeGarp;
    type Net = FakeAddresses;

    fn ifindex(&self, ifname: &str) -> Result<u32, NetError> {
        self.interfaces
            .iter()
            .chain(lock(&self.vmacs).iter())
            .find(|(n, _)| n == ifname)
            .map(|(_, i)| *i)
            .ok_or_else(|| NetError::NoSuchInterface(ifname.to_owned()))
    }

    fn open_vrrp(&self, config: &VrrpSocketConfig) -> Result<FakeVrrp, NetError> {
        self.ifindex(&config.ifname)?;
        lock(&self.opened).push(config.clone());
        Ok(self.vrrp.clone())
    }

    fn open_garp(&self, ifname: &str) -> Result<FakeGarp, NetError> {
        self.ifindex(ifname)?;
        lock(&self.garp_opened).push(ifname.to_owned());
        Ok(self.garp.clone())
    }

    fn net(&self) -> FakeAddresses {
        self.net.clone()
    }

    /// Names the VMAC as the kernel code does (the fake's interfaces are all plain ones) and
    /// gives it the next free index.
    async fn setup_vmac(&self, req: &VmacRequest) -> Result<VmacLink, NetError> {
        let base = self.ifindex(&req.base)?;
        let mut vmacs = lock(&self.vmacs);
        let links: Vec<ExistingLink> = self
            .interfaces
            .iter()
            .chain(vmacs.iter())
            .map(|(name, ifindex)| ExistingLink {
                name: name.clone(),
                ifindex: *ifindex,
                ..ExistingLink::default()
            })
            .collect();
        let name = match vmac::plan(req, base, &links).0 {
            Plan::Reuse(name) | Plan::Create(name) | Plan::Replace { name, .. } => name,
        };
        let ifindex = links.iter().map(|l| l.ifindex).max().unwrap_or(0) + 1;
        vmacs.push((name.clone(), ifindex));
        Ok(VmacLink {
            name,
            ifindex,
            base: req.base.clone(),
            created: true,
            up: true,
        })
    }

    async fn remove_vmac(&self, link: &VmacLink) -> Result<(), NetError> {
        lock(&self.vmacs).retain(|(n, _)| *n != link.name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::network::addr::{AddressManager, cleanup_stale};

    fn ia(ifindex: u32, last: u8, prefix_len: u8) -> InterfaceAddress {
        InterfaceAddress {
            ifindex,
            addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)),
            prefix_len,
            label: None,
        }
    }

    fn vip(ifindex: u32, last: u8, prefix_len: u8) -> Vip {
        Vip::new(ifindex, Ipv4Addr::new(198, 51, 100, last), prefix_len)
    }

    #[tokio::test]
    async fn cleanup_removes_exact_matches_on_that_interface_only() {
        let fake = FakeAddresses::new(vec![
            ia(2, 1, 24),  // the host's own address
            ia(2, 10, 32), // stale VIP
            ia(2, 11, 32), // configured as /24: not an exact match
            ia(3, 10, 32), // same VIP on another interface
        ]);
        let configured = [vip(2, 10, 32), vip(2, 11, 24), vip(3, 10, 32)];
        let removed = cleanup_stale(&fake, 2, &configured).await.expect("cleanup");
        assert_eq!(removed, [ia(2, 10, 32)]);
        assert_eq!(
            fake.snapshot(),
            [ia(2, 1, 24), ia(2, 11, 32), ia(3, 10, 32)]
        );
    }

    #[tokio::test]
    async fn manager_removes_what_it_added_or_configured_and_nothing_else() {
        let fake = FakeAddresses::new(vec![ia(2, 1, 24), ia(2, 20, 32)]);
        let mut mgr = AddressManager::new(fake.clone(), vec![vip(2, 10, 32)]);
        // Added at run time (e.g. a VIP from a reloaded config): ours to remove.
        mgr.add(&vip(2, 30, 32)).await.expect("add");
        mgr.remove(&vip(2, 30, 32)).await.expect("remove own");
        // Configured but never added: removing is allowed and a no-op.
        mgr.remove(&vip(2, 10, 32))
            .await
            .expect("remove configured");
        // Foreign: refused and left alone.
        let err = mgr.remove(&vip(2, 20, 32)).await.expect_err("foreign");
        assert!(matches!(err, NetError::NotOwned { .. }), "{err}");
        assert_eq!(fake.snapshot(), [ia(2, 1, 24), ia(2, 20, 32)]);
        // Adding twice does not duplicate.
        mgr.add(&vip(2, 10, 32)).await.expect("add");
        mgr.add(&vip(2, 10, 32)).await.expect("add again");
        assert_eq!(fake.snapshot().len(), 3);
    }

    #[tokio::test]
    async fn fake_vrrp_records_and_delivers() {
        let (fake, inbox) = FakeVrrp::new();
        let dst = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
        fake.send(b"adv", dst, None).await.expect("send");
        let want = SentPacket {
            payload: b"adv".to_vec(),
            dst,
            src: None,
        };
        assert_eq!(fake.sent(), [want]);
        let pkt = ReceivedPacket {
            bytes: vec![0x45],
            ifindex: 2,
            src: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)),
            dst,
            hop_limit: None,
        };
        inbox.send(pkt.clone()).await.expect("deliver");
        assert_eq!(fake.recv().await.expect("recv"), pkt);
    }
}
