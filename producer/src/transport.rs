//! How the producer reaches a broker: a [`Transport`] turns an address into a byte stream. The
//! real one is tokio TCP; the harness plugs in a simulated network (turmoil) the same way. The
//! transport also makes every wait of the producer ([`Transport::sleep_until`]), so that a
//! simulation can see each pending timer; by default that is tokio's timer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// A connected byte stream to a broker.
pub trait BrokerStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> BrokerStream for T {}

/// The future [`Transport::connect`] returns.
pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = io::Result<Box<dyn BrokerStream>>> + Send + 'a>>;

/// The future [`Transport::sleep_until`] returns.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Opens connections to brokers by `host:port`, and times the producer's waits.
pub trait Transport: Send + Sync + 'static {
    /// Connects to `addr`.
    fn connect<'a>(&'a self, addr: &'a str) -> ConnectFuture<'a>;

    /// Sleeps until `deadline` (default: tokio's timer).
    fn sleep_until(&self, deadline: Instant) -> SleepFuture {
        Box::pin(tokio::time::sleep_until(deadline))
    }
}

/// The time ran out before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOut;

/// Runs `future` until `deadline` on `transport`'s timer; polled before the timer, as
/// `tokio::time::timeout_at`.
pub(crate) async fn timeout_at<F: Future>(
    transport: &dyn Transport,
    deadline: Instant,
    future: F,
) -> Result<F::Output, TimedOut> {
    let sleep = transport.sleep_until(deadline);
    tokio::select! {
        biased;
        output = future => Ok(output),
        () = sleep => Err(TimedOut),
    }
}

/// Runs `future` for at most `duration` on `transport`'s timer, as `tokio::time::timeout`.
pub(crate) async fn timeout<F: Future>(
    transport: &dyn Transport,
    duration: Duration,
    future: F,
) -> Result<F::Output, TimedOut> {
    // tokio's own far future (about 30 years) when the sum overflows.
    let now = Instant::now();
    let deadline = now
        .checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30));
    timeout_at(transport, deadline, future).await
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
