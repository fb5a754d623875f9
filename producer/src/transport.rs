//! How the producer reaches a broker: a [`Transport`] turns an address into a byte stream. The
//! real one is tokio TCP; the harness plugs in a simulated network (turmoil) the same way.

use std::future::Future;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

/// A connected byte stream to a broker.
pub trait BrokerStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> BrokerStream for T {}

/// The future [`Transport::connect`] returns.
pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = io::Result<Box<dyn BrokerStream>>> + Send + 'a>>;

/// Opens connections to brokers by `host:port`.
pub trait Transport: Send + Sync + 'static {
    /// Connects to `addr`.
    fn connect<'a>(&'a self, addr: &'a str) -> ConnectFuture<'a>;
}

/// Plain TCP through tokio, with Nagle off (requests are written whole).
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpTransport;

impl Transport for TcpTransport {
    fn connect<'a>(&'a self, addr: &'a str) -> ConnectFuture<'a> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as Box<dyn BrokerStream>)
        })
    }
}
