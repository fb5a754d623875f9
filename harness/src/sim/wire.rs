//! ktrial's producer's side of the simulated wire: a transport that records every connection
//! with a [`ConnectionRecorder`] at simulated milliseconds, and times the producer's waits
//! through the run's [`Deadlines`].

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use ktrial_producer::{BrokerStream, ConnectFuture, SleepFuture, Transport};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::SimTransport;
use super::deadlines::Deadlines;
use crate::wire::{ConnectionRecorder, WireLog};

/// A transport that records what the producer sends and what comes back.
#[derive(Debug, Clone)]
pub struct RecordingTransport {
    log: Arc<Mutex<WireLog>>,
    deadlines: Deadlines,
    connections: Arc<AtomicU32>,
}

impl RecordingTransport {
    /// Records from now on; the producer's waits are registered in `deadlines`.
    pub fn new(deadlines: Deadlines) -> Self {
        Self {
            log: Arc::default(),
            deadlines,
            connections: Arc::default(),
        }
    }

    /// What was recorded so far.
    pub fn log(&self) -> WireLog {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Transport for RecordingTransport {
    fn connect<'a>(&'a self, addr: &'a str) -> ConnectFuture<'a> {
        Box::pin(async move {
            // Numbered before connecting, so the numbers follow the producer's order of attempts.
            let connection = self.connections.fetch_add(1, Ordering::Relaxed);
            let inner = SimTransport.connect(addr).await?;
            Ok(Box::new(Recorded {
                inner,
                recorder: ConnectionRecorder::new(
                    addr.to_string(),
                    connection,
                    Arc::clone(&self.log),
                ),
            }) as Box<dyn BrokerStream>)
        })
    }

    fn sleep_until(&self, deadline: Instant) -> SleepFuture {
        Box::pin(self.deadlines.sleep_until(deadline))
    }
}

/// One recorded connection.
struct Recorded {
    inner: Box<dyn BrokerStream>,
    recorder: ConnectionRecorder,
}

fn sim_ms() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl AsyncWrite for Recorded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.recorder.requests(&buf[..written], sim_ms());
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncRead for Recorded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let new = buf.filled()[before..].to_vec();
        self.recorder.responses(&new, sim_ms());
        Poll::Ready(Ok(()))
    }
}
