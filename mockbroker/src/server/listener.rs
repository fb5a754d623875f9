//! What a broker serves on: anything that accepts byte streams. The real one is a tokio
//! [`TcpListener`]; the harness wraps turmoil's simulated listener in the same trait.

use core::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

/// A source of client connections.
pub trait Listener: Send + 'static {
    /// One client's byte stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Waits for the next client; returns its stream and a printable peer address.
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Stream, String)>> + Send;
}

impl Listener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&mut self) -> io::Result<(TcpStream, String)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        // Responses are written whole; Nagle would only delay them.
        stream.set_nodelay(true)?;
        Ok((stream, peer.to_string()))
    }
}
