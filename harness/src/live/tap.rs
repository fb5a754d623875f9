//! Each broker's listener in a run against a real client: TCP on loopback, every connection
//! recorded on the broker's side into the run's [`WireLog`] (the client's bytes are not
//! ours to wrap), and the scenario's network faults between the client and that broker applied
//! to its connections.
//!
//! A `partition` or `hold` stalls the broker's connections both ways for its duration: on a
//! real network TCP keeps resending through a short cut, so what was written arrives when it
//! heals; the simulation's `partition` drops messages instead. New connections are accepted
//! only after the stall. `latency` delays what the client writes by its milliseconds before the
//! broker reads it (the runner adds the same to the broker's answers), so that, as on a real
//! link, bytes still in transit when the broker crashes never reach it.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use ktrial_mockbroker::clock::SleepFuture;
use ktrial_mockbroker::{Bind, Clock, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::wire::{ConnectionRecorder, WireLog};

/// Bytes of a connection held in transit at most.
const MAX_IN_TRANSIT: usize = 4 << 20;

/// What the run's broker listeners share: the wire log, the connection count, the cluster's
/// clock (times in the log, stalls) and the real one (latency, which runs before the cluster's
/// clock starts too: a client's first requests cross the same link).
#[derive(Debug, Clone)]
pub struct Tap {
    log: Arc<Mutex<WireLog>>,
    connections: Arc<AtomicU32>,
    clock: Clock,
    real: Clock,
}

impl Tap {
    /// Records into a new log, with times from `clock`.
    pub fn new(clock: Clock) -> Self {
        Self {
            log: Arc::default(),
            connections: Arc::default(),
            clock,
            real: Clock::default(),
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

/// One broker's link to the client: until when its connections are stalled, and how long the
/// client's bytes take to reach it (cluster milliseconds).
#[derive(Debug, Default, Clone)]
pub struct Link {
    stalled_until_ms: Arc<AtomicU64>,
    latency_ms: Arc<AtomicU64>,
}

impl Link {
    /// Stalls the link until `until_ms`.
    pub fn stall_until(&self, until_ms: u64) {
        self.stalled_until_ms.fetch_max(until_ms, Ordering::Relaxed);
    }

    /// Delays the client's bytes by `ms` from now on.
    pub fn set_latency(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Milliseconds of stall left at `now_ms`, if stalled.
    fn stall_left(&self, now_ms: u64) -> Option<u64> {
        let until = self.stalled_until_ms.load(Ordering::Relaxed);
        (until > now_ms).then(|| until - now_ms)
    }
}

/// One broker's listener: the same port after every restart.
pub struct TapBind {
    address: std::net::SocketAddr,
    bound: Option<TcpListener>,
    tap: Tap,
    link: Link,
}

impl TapBind {
    /// Serves on `listener` first and its address after restarts, recording into `tap`, over
    /// `link`.
    pub fn new(listener: TcpListener, tap: Tap, link: Link) -> io::Result<Self> {
        Ok(Self {
            address: listener.local_addr()?,
            bound: Some(listener),
            tap,
            link,
        })
    }
}

impl Bind for TapBind {
    type Listener = TapListener;

    async fn bind(&mut self) -> io::Result<TapListener> {
        let listener = match self.bound.take() {
            Some(listener) => listener,
            None => TcpListener::bind(self.address).await?,
        };
        Ok(TapListener {
            listener,
            broker: self.address.to_string(),
            tap: self.tap.clone(),
            link: self.link.clone(),
        })
    }
}

/// Accepts on a broker's port and taps every connection.
pub struct TapListener {
    listener: TcpListener,
    broker: String,
    tap: Tap,
    link: Link,
}

impl Listener for TapListener {
    type Stream = TapStream;

    async fn accept(&mut self) -> io::Result<(TapStream, String)> {
        let (stream, peer) = self.listener.accept().await?;
        stream.set_nodelay(true)?;
        while let Some(left) = self.link.stall_left(self.tap.clock.elapsed_ms()) {
            self.tap.clock.sleep(Duration::from_millis(left)).await;
        }
        let connection = self.tap.connections.fetch_add(1, Ordering::Relaxed);
        let recorder =
            ConnectionRecorder::new(self.broker.clone(), connection, Arc::clone(&self.tap.log));
        Ok((
            TapStream {
                inner: stream,
                recorder,
                clock: self.tap.clock.clone(),
                real: self.tap.real.clone(),
                link: self.link.clone(),
                in_transit: VecDeque::new(),
                in_transit_bytes: 0,
                closed: false,
                arrival_wait: None,
                read_wait: None,
                write_wait: None,
            },
            peer.to_string(),
        ))
    }
}

/// A client's connection as the broker sees it.
pub struct TapStream {
    inner: TcpStream,
    recorder: ConnectionRecorder,
    clock: Clock,
    real: Clock,
    link: Link,
    /// What the client wrote that has not reached the broker yet: (arrival in real ms, bytes).
    in_transit: VecDeque<(u64, Vec<u8>)>,
    /// Bytes in `in_transit`.
    in_transit_bytes: usize,
    /// The client closed its side (after what is in transit).
    closed: bool,
    arrival_wait: Option<SleepFuture>,
    read_wait: Option<SleepFuture>,
    write_wait: Option<SleepFuture>,
}

/// Ready once `now_ms` reaches `until_ms`, re-reading `until_ms` after each wait; parks the task
/// on `wait` until then.
fn poll_until(
    clock: &Clock,
    wait: &mut Option<SleepFuture>,
    cx: &mut Context<'_>,
    until_ms: impl Fn(u64) -> Option<u64>,
) -> Poll<()> {
    loop {
        if let Some(sleep) = wait {
            ready!(sleep.as_mut().poll(cx));
            *wait = None;
        }
        let now = clock.elapsed_ms();
        match until_ms(now) {
            Some(until) if until > now => {
                *wait = Some(clock.sleep(Duration::from_millis(until - now)));
            }
            _ => return Poll::Ready(()),
        }
    }
}

impl AsyncRead for TapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Take in what the client has written, stamped with its arrival; past a bound, leave the
        // rest in the socket, so that TCP pushes back as it would on a slow link.
        while !this.closed && this.in_transit_bytes < MAX_IN_TRANSIT {
            let mut chunk = [0u8; 16 * 1024];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => this.closed = true,
                Poll::Ready(Ok(())) => {
                    let arrives =
                        this.real.elapsed_ms() + this.link.latency_ms.load(Ordering::Relaxed);
                    this.in_transit_bytes += read.filled().len();
                    this.in_transit.push_back((arrives, read.filled().to_vec()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => break,
            }
        }
        let Some(&(arrives, _)) = this.in_transit.front() else {
            // Nothing in transit: at the client's close, an end of stream; else wait for bytes.
            return if this.closed {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            };
        };
        ready!(poll_until(
            &this.real,
            &mut this.arrival_wait,
            cx,
            |_| Some(arrives)
        ));
        let link = this.link.clone();
        ready!(poll_until(&this.clock, &mut this.read_wait, cx, |now| {
            link.stall_left(now).map(|left| now + left)
        }));
        let Some((_, bytes)) = this.in_transit.front_mut() else {
            return Poll::Pending;
        };
        let n = bytes.len().min(buf.remaining());
        buf.put_slice(&bytes[..n]);
        this.recorder.requests(&bytes[..n], this.clock.elapsed_ms());
        bytes.drain(..n);
        this.in_transit_bytes -= n;
        if bytes.is_empty() {
            this.in_transit.pop_front();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for TapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let link = this.link.clone();
        ready!(poll_until(&this.clock, &mut this.write_wait, cx, |now| {
            link.stall_left(now).map(|left| now + left)
        }));
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.recorder
            .responses(&buf[..written], this.clock.elapsed_ms());
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
