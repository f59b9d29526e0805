//! In-memory stand-ins for the network edges, for tests of code that drives them (the
//! ownership rule here, the state machine's driver elsewhere). They record what was asked of
//! them and never touch the kernel.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::mpsc;

use super::addr::{AddressIo, InterfaceAddress, Vip};
use super::garp::GarpIo;
use super::{NetError, ReceivedPacket, VrrpIo};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock has failed already; keep the data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The addresses of a pretend kernel. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct FakeAddresses {
    addrs: Arc<Mutex<Vec<InterfaceAddress>>>,
}

impl FakeAddresses {
    pub fn new(initial: Vec<InterfaceAddress>) -> Self {
        FakeAddresses {
            addrs: Arc::new(Mutex::new(initial)),
        }
    }

    /// What is on the interfaces now.
    pub fn snapshot(&self) -> Vec<InterfaceAddress> {
        lock(&self.addrs).clone()
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

/// One packet handed to [`FakeVrrp::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPacket {
    pub payload: Vec<u8>,
    pub dst: Ipv4Addr,
    /// The pinned source address, if any.
    pub src: Option<Ipv4Addr>,
}

/// A VRRP socket whose sent packets are recorded and whose received packets come from a
/// channel the test feeds.
#[derive(Debug)]
pub struct FakeVrrp {
    sent: Mutex<Vec<SentPacket>>,
    inbox: tokio::sync::Mutex<mpsc::Receiver<ReceivedPacket>>,
}

impl FakeVrrp {
    /// The fake and the sender that delivers packets to its `recv`.
    pub fn new() -> (Self, mpsc::Sender<ReceivedPacket>) {
        let (tx, rx) = mpsc::channel(64);
        let fake = FakeVrrp {
            sent: Mutex::new(Vec::new()),
            inbox: tokio::sync::Mutex::new(rx),
        };
        (fake, tx)
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<SentPacket> {
        lock(&self.sent).clone()
    }
}

impl VrrpIo for FakeVrrp {
    async fn send(
        &self,
        payload: &[u8],
        dst: Ipv4Addr,
        src: Option<Ipv4Addr>,
    ) -> Result<(), NetError> {
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
#[derive(Debug, Default)]
pub struct FakeGarp {
    sent: Mutex<Vec<Ipv4Addr>>,
}

impl FakeGarp {
    pub fn sent(&self) -> Vec<Ipv4Addr> {
        lock(&self.sent).clone()
    }
}

impl GarpIo for FakeGarp {
    async fn send_garp(&self, vip: Ipv4Addr) -> Result<(), NetError> {
        lock(&self.sent).push(vip);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::network::addr::{AddressManager, cleanup_stale};
    use crate::network::garp::{GarpParams, run_schedule};

    fn ia(ifindex: u32, last: u8, prefix_len: u8) -> InterfaceAddress {
        InterfaceAddress {
            ifindex,
            addr: Ipv4Addr::new(198, 51, 100, last),
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

    #[tokio::test(start_paused = true)]
    async fn garp_schedule_sends_each_vip_per_round_on_time() {
        let fake = FakeGarp::default();
        let vips = [
            Ipv4Addr::new(198, 51, 100, 10),
            Ipv4Addr::new(198, 51, 100, 11),
        ];
        let params = GarpParams {
            master_delay: Duration::from_secs(5),
            master_repeat: 2,
            ..GarpParams::default()
        };
        let start = tokio::time::Instant::now();
        let errors = run_schedule(&fake, &vips, &params.master_schedule()).await;
        assert!(errors.is_empty());
        assert_eq!(fake.sent().len(), 8);
        // Paused time: the run ends exactly at the second burst.
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test]
    async fn fake_vrrp_records_and_delivers() {
        let (fake, inbox) = FakeVrrp::new();
        let dst = Ipv4Addr::new(224, 0, 0, 18);
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
            src: Ipv4Addr::new(198, 51, 100, 2),
            dst,
        };
        inbox.send(pkt.clone()).await.expect("deliver");
        assert_eq!(fake.recv().await.expect("recv"), pkt);
    }
}
