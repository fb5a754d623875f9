//! Where a broker gets a listener, each time it starts: TCP on a fixed address (the port it
//! first got, so that clients find it again after a restart), a listener given once, or a
//! simulated network's (the harness implements [`Bind`] for turmoil).

use core::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use super::Listener;

/// A source of listeners for one broker, asked again after every restart.
pub trait Bind: Send + 'static {
    /// The listener it makes.
    type Listener: Listener;

    /// A listener for the broker's address.
    fn bind(&mut self) -> impl Future<Output = io::Result<Self::Listener>> + Send;
}

/// TCP on one address; the first listener may be bound already (to learn an ephemeral port).
#[derive(Debug)]
pub struct TcpBind {
    address: SocketAddr,
    bound: Option<TcpListener>,
}

impl TcpBind {
    /// Serves on `listener` first, then binds its address again after each restart.
    pub fn new(listener: TcpListener) -> io::Result<Self> {
        Ok(Self {
            address: listener.local_addr()?,
            bound: Some(listener),
        })
    }
}

impl Bind for TcpBind {
    type Listener = TcpListener;

    async fn bind(&mut self) -> io::Result<TcpListener> {
        match self.bound.take() {
            Some(listener) => Ok(listener),
            // tokio sets SO_REUSEADDR, so the port is free again at once.
            None => TcpListener::bind(self.address).await,
        }
    }
}

/// A listener given once: after a broker restart there is none, and the broker stays
/// unreachable (use a [`Bind`] that can listen again to restart brokers).
#[derive(Debug)]
pub struct OnceBind<L>(pub Option<L>);

impl<L: Listener + Sync> Bind for OnceBind<L> {
    type Listener = L;

    async fn bind(&mut self) -> io::Result<L> {
        self.0.take().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "this broker's listener was given once and is gone",
            )
        })
    }
}
