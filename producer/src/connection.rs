//! One connection to one broker: two small tasks, a writer that frames requests onto the stream
//! and a reader that matches responses to them in order (a broker answers a connection's requests
//! in the order it got them). The first exchange is ApiVersions, so the sender can pick versions.
//! A request that gets no answer within `request.timeout.ms` closes the connection and fails
//! everything in flight on it, as the Java client's `NetworkClient` does.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ktrial_protocol::codec::{decode_response, encode_request};
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestHeader, RequestKind, ResponseKind,
};
use ktrial_protocol::{ResponseError, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::transport::{BrokerStream, Transport, timeout};

/// A request for the connection; `tag` comes back with the answer.
#[derive(Debug)]
pub(crate) struct ConnRequest {
    pub tag: u64,
    pub api_key: ApiKey,
    pub version: i16,
    pub body: RequestKind,
    /// False for `acks=0` produce requests: done once written.
    pub expect_response: bool,
}

/// Why a request got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("cannot connect to {addr}: {detail}")]
    Connect { addr: String, detail: String },
    #[error("connection lost: {0}")]
    Io(String),
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("bad response: {0}")]
    Protocol(String),
}

/// What a connection reports to the sender.
#[derive(Debug)]
pub(crate) enum ConnEvent {
    /// Connected and negotiated: the broker's version range per API key.
    Ready {
        node: i32,
        versions: BTreeMap<i16, (i16, i16)>,
    },
    /// The answer to a request (or, for a request without response, that it was written).
    Response {
        node: i32,
        tag: u64,
        result: Result<Option<Box<ResponseKind>>, ConnError>,
    },
    /// The connection is gone; every request on it was answered with an error first.
    Closed { node: i32, error: ConnError },
}

/// The sender's handle: requests go in; events come out on the shared event channel.
#[derive(Debug)]
pub(crate) struct Connection {
    pub requests: mpsc::UnboundedSender<ConnRequest>,
}

struct Pending {
    tag: u64,
    correlation_id: i32,
    api_key: ApiKey,
    version: i16,
    deadline: Instant,
}

struct Shared {
    node: i32,
    request_timeout: Duration,
    in_flight: Mutex<VecDeque<Pending>>,
    closed: AtomicBool,
    wake_reader: Notify,
    events: mpsc::UnboundedSender<ConnEvent>,
}

impl Shared {
    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, VecDeque<Pending>> {
        match self.in_flight.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Closes once: fails what is in flight, then reports the close.
    fn close(&self, error: ConnError) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending: Vec<Pending> = self.lock_in_flight().drain(..).collect();
        for p in pending {
            self.fail(p.tag, error.clone());
        }
        self.wake_reader.notify_one();
        let _ = self.events.send(ConnEvent::Closed {
            node: self.node,
            error,
        });
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn fail(&self, tag: u64, error: ConnError) {
        let _ = self.events.send(ConnEvent::Response {
            node: self.node,
            tag,
            result: Err(error),
        });
    }
}

/// Parameters of a new connection.
pub(crate) struct ConnectParams {
    pub node: i32,
    pub addr: String,
    pub client_id: Arc<str>,
    pub request_timeout: Duration,
    pub max_frame_bytes: usize,
}

/// Starts connecting to a broker; returns at once.
pub(crate) fn spawn(
    params: ConnectParams,
    transport: Arc<dyn Transport>,
    events: mpsc::UnboundedSender<ConnEvent>,
) -> Connection {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(params, transport, events, rx));
    Connection { requests: tx }
}

async fn run(
    params: ConnectParams,
    transport: Arc<dyn Transport>,
    events: mpsc::UnboundedSender<ConnEvent>,
    mut requests: mpsc::UnboundedReceiver<ConnRequest>,
) {
    let shared = Arc::new(Shared {
        node: params.node,
        request_timeout: params.request_timeout,
        in_flight: Mutex::new(VecDeque::new()),
        closed: AtomicBool::new(false),
        wake_reader: Notify::new(),
        events: events.clone(),
    });
    let connect = timeout(
        &*transport,
        params.request_timeout,
        transport.connect(&params.addr),
    );
    let stream = match connect.await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return fail_all(&shared, &mut requests, connect_error(&params, e)),
        Err(_) => {
            let error = connect_error(&params, "timed out");
            return fail_all(&shared, &mut requests, error);
        }
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut codec = Codec {
        client_id: params.client_id.clone(),
        next_correlation: 0,
        decoder: FrameDecoder::new(params.max_frame_bytes),
        buf: BytesMut::with_capacity(64 * 1024),
    };
    let handshake = timeout(
        &*transport,
        params.request_timeout,
        codec.api_versions(&mut reader, &mut writer),
    );
    let versions = match handshake.await {
        Ok(Ok(versions)) => versions,
        Ok(Err(e)) => return fail_all(&shared, &mut requests, e),
        Err(_) => {
            return fail_all(
                &shared,
                &mut requests,
                ConnError::Timeout(params.request_timeout),
            );
        }
    };
    let _ = events.send(ConnEvent::Ready {
        node: params.node,
        versions,
    });
    let reader_shared = shared.clone();
    let Codec {
        client_id,
        next_correlation,
        decoder,
        buf,
    } = codec;
    tokio::spawn(read_loop(reader_shared, reader, decoder, buf, transport));
    let mut writer_state = WriterState {
        client_id,
        next_correlation,
        request_timeout: params.request_timeout,
    };
    while let Some(request) = requests.recv().await {
        if shared.is_closed() {
            shared.fail(request.tag, ConnError::Io("connection closed".into()));
            continue;
        }
        if let Err(e) = writer_state.write(&shared, &mut writer, request).await {
            shared.close(e);
        }
    }
    shared.close(ConnError::Io("connection released".into()));
}

fn connect_error(params: &ConnectParams, detail: impl ToString) -> ConnError {
    ConnError::Connect {
        addr: params.addr.clone(),
        detail: detail.to_string(),
    }
}

fn fail_all(
    shared: &Shared,
    requests: &mut mpsc::UnboundedReceiver<ConnRequest>,
    error: ConnError,
) {
    shared.close(error.clone());
    requests.close();
    while let Ok(request) = requests.try_recv() {
        shared.fail(request.tag, error.clone());
    }
}

struct WriterState {
    client_id: Arc<str>,
    next_correlation: i32,
    request_timeout: Duration,
}

impl WriterState {
    async fn write(
        &mut self,
        shared: &Shared,
        writer: &mut WriteHalf<Box<dyn BrokerStream>>,
        request: ConnRequest,
    ) -> Result<(), ConnError> {
        let correlation_id = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        let frame = encode(
            &self.client_id,
            correlation_id,
            request.api_key,
            request.version,
            &request.body,
        );
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                shared.fail(request.tag, e);
                return Ok(());
            }
        };
        if request.expect_response {
            let was_empty = {
                let mut in_flight = shared.lock_in_flight();
                in_flight.push_back(Pending {
                    tag: request.tag,
                    correlation_id,
                    api_key: request.api_key,
                    version: request.version,
                    deadline: Instant::now() + self.request_timeout,
                });
                in_flight.len() == 1
            };
            if was_empty {
                shared.wake_reader.notify_one();
            }
        }
        writer
            .write_all(&frame)
            .await
            .map_err(|e| ConnError::Io(e.to_string()))?;
        if !request.expect_response {
            let _ = shared.events.send(ConnEvent::Response {
                node: shared.node,
                tag: request.tag,
                result: Ok(None),
            });
        }
        Ok(())
    }
}

async fn read_loop(
    shared: Arc<Shared>,
    mut reader: ReadHalf<Box<dyn BrokerStream>>,
    mut decoder: FrameDecoder,
    mut buf: BytesMut,
    transport: Arc<dyn Transport>,
) {
    loop {
        if shared.is_closed() {
            return;
        }
        let deadline = shared.lock_in_flight().front().map(|p| p.deadline);
        let timeout = async {
            match deadline {
                Some(at) => transport.sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) => return shared.close(ConnError::Io("closed by the broker".into())),
                Ok(_) => {
                    if let Err(e) = dispatch(&shared, &mut decoder, &mut buf) {
                        return shared.close(e);
                    }
                }
                Err(e) => return shared.close(ConnError::Io(e.to_string())),
            },
            () = shared.wake_reader.notified() => {}
            () = timeout => {
                let waited = shared.lock_in_flight().front().map(|p| p.deadline);
                if waited.is_some_and(|at| at <= Instant::now()) {
                    return shared.close(ConnError::Timeout(shared.request_timeout));
                }
            }
        }
    }
}

fn dispatch(
    shared: &Shared,
    decoder: &mut FrameDecoder,
    buf: &mut BytesMut,
) -> Result<(), ConnError> {
    while let Some(frame) = decoder
        .decode(buf)
        .map_err(|e| ConnError::Protocol(e.to_string()))?
    {
        let Some(pending) = shared.lock_in_flight().pop_front() else {
            return Err(ConnError::Protocol("response without a request".into()));
        };
        let (header, body) = decode_response(pending.api_key, pending.version, frame)
            .map_err(|e| ConnError::Protocol(e.to_string()))?;
        if header.correlation_id != pending.correlation_id {
            return Err(ConnError::Protocol(format!(
                "correlation id {} where {} was expected",
                header.correlation_id, pending.correlation_id
            )));
        }
        let _ = shared.events.send(ConnEvent::Response {
            node: shared.node,
            tag: pending.tag,
            result: Ok(Some(Box::new(body))),
        });
    }
    Ok(())
}

fn encode(
    client_id: &str,
    correlation_id: i32,
    api_key: ApiKey,
    version: i16,
    body: &RequestKind,
) -> Result<Bytes, ConnError> {
    let header = RequestHeader::default()
        .with_request_api_key(api_key as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_string(client_id.to_string())));
    encode_request(&header, body).map_err(|e| ConnError::Protocol(e.to_string()))
}

struct Codec {
    client_id: Arc<str>,
    next_correlation: i32,
    decoder: FrameDecoder,
    buf: BytesMut,
}

impl Codec {
    /// ApiVersions v3, falling back to v0 when the broker says UNSUPPORTED_VERSION (KIP-511).
    async fn api_versions(
        &mut self,
        reader: &mut ReadHalf<Box<dyn BrokerStream>>,
        writer: &mut WriteHalf<Box<dyn BrokerStream>>,
    ) -> Result<BTreeMap<i16, (i16, i16)>, ConnError> {
        for version in [3, 0] {
            let body = RequestKind::ApiVersions(
                ApiVersionsRequest::default()
                    .with_client_software_name(StrBytes::from_static_str("ktrial"))
                    .with_client_software_version(StrBytes::from_static_str(env!(
                        "CARGO_PKG_VERSION"
                    ))),
            );
            let correlation_id = self.next_correlation;
            self.next_correlation += 1;
            let frame = encode(
                &self.client_id,
                correlation_id,
                ApiKey::ApiVersions,
                version,
                &body,
            )?;
            writer
                .write_all(&frame)
                .await
                .map_err(|e| ConnError::Io(e.to_string()))?;
            let frame = loop {
                if let Some(frame) = self
                    .decoder
                    .decode(&mut self.buf)
                    .map_err(|e| ConnError::Protocol(e.to_string()))?
                {
                    break frame;
                }
                let n = reader
                    .read_buf(&mut self.buf)
                    .await
                    .map_err(|e| ConnError::Io(e.to_string()))?;
                if n == 0 {
                    return Err(ConnError::Io("closed by the broker".into()));
                }
            };
            let (_, body) = decode_response(ApiKey::ApiVersions, version, frame)
                .map_err(|e| ConnError::Protocol(e.to_string()))?;
            let ResponseKind::ApiVersions(response) = body else {
                return Err(ConnError::Protocol("not an ApiVersions response".into()));
            };
            match ResponseError::try_from_code(response.error_code) {
                None => {
                    return Ok(response
                        .api_keys
                        .iter()
                        .map(|k| (k.api_key, (k.min_version, k.max_version)))
                        .collect());
                }
                Some(ResponseError::UnsupportedVersion) => continue,
                Some(e) => return Err(ConnError::Protocol(format!("ApiVersions: {e}"))),
            }
        }
        Err(ConnError::Protocol("ApiVersions v0 was refused".into()))
    }
}
