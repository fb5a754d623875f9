//! The simulated network's ends: the broker's [`Listener`] and the producer's [`Transport`] over
//! turmoil, so that the same server and client code runs on virtual links.

use std::io;

use ktrial_mockbroker::Listener;
use ktrial_producer::{BrokerStream, ConnectFuture, Transport};

/// A broker's listening socket on a simulated host.
pub struct SimListener(pub turmoil::net::TcpListener);

impl std::fmt::Debug for SimListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SimListener").finish_non_exhaustive()
    }
}

impl Listener for SimListener {
    type Stream = turmoil::net::TcpStream;

    async fn accept(&mut self) -> io::Result<(Self::Stream, String)> {
        let (stream, peer) = self.0.accept().await?;
        Ok((stream, peer.to_string()))
    }
}

/// The producer's connections from the simulated client host.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimTransport;

impl Transport for SimTransport {
    fn connect<'a>(&'a self, addr: &'a str) -> ConnectFuture<'a> {
        Box::pin(async move {
            let stream = turmoil::net::TcpStream::connect(addr).await?;
            Ok(Box::new(stream) as Box<dyn BrokerStream>)
        })
    }
}
