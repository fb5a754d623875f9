//! A raw, blocking Kafka client built only on `ktrial-protocol`: it writes exactly the request a
//! scenario asks for (including ones no real client would send) and reports what came back: a
//! decoded response, nothing, or a closed connection.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ktrial_protocol::StrBytes;
use ktrial_protocol::codec::{decode_response, encode_request};
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};

/// How long a request may go unanswered before it counts as "no response" (real Kafka answers
/// within milliseconds on loopback; acks=-1 and Fetch waits are kept far below this).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection to one broker.
pub struct Connection {
    stream: TcpStream,
    buf: BytesMut,
    decoder: FrameDecoder,
    next_correlation_id: i32,
}

/// What came back for one request, before decoding.
pub enum Reply {
    /// One whole response frame (without its size prefix).
    Frame(Bytes),
    /// Nothing arrived within the read timeout.
    Silent,
    /// The broker closed the connection.
    Closed,
}

impl Connection {
    /// Connects to `addr` (`host:port`).
    pub fn connect(addr: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: BytesMut::new(),
            decoder: FrameDecoder::default(),
            next_correlation_id: 1,
        })
    }

    /// The header the next request will carry.
    pub fn header(&mut self, api_key: ApiKey, version: i16) -> RequestHeader {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        RequestHeader::default()
            .with_request_api_key(api_key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("ktrial-differential")))
    }

    /// Encodes and writes a request; returns its correlation id.
    pub fn send(&mut self, version: i16, body: RequestKind) -> Result<i32, String> {
        let header = self.header(api_key_of(&body), version);
        let frame = encode_request(&header, &body).map_err(|e| e.to_string())?;
        self.send_frame(&frame)?;
        Ok(header.correlation_id)
    }

    /// Writes bytes as they are (a hand-made or corrupted frame).
    pub fn send_frame(&mut self, frame: &[u8]) -> Result<(), String> {
        self.stream.write_all(frame).map_err(|e| e.to_string())
    }

    /// Reads the next response frame, or reports silence or a closed connection.
    pub fn receive(&mut self) -> Reply {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => return Reply::Frame(frame),
                Ok(None) => {}
                Err(_) => return Reply::Closed,
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Reply::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Reply::Silent;
                }
                Err(_) => return Reply::Closed,
            }
        }
    }

    /// Sends a request and decodes its response.
    pub fn call(&mut self, version: i16, body: RequestKind) -> Result<Answered, String> {
        let api_key = api_key_of(&body);
        let correlation_id = self.send(version, body)?;
        Ok(self.receive_for(api_key, version, correlation_id))
    }

    /// Sends a request that should get no response (Produce acks=0), followed by an ApiVersions
    /// request: if ApiVersions is answered first, the request was not answered
    /// ([`Answered::Silent`]); a response to it, or a closed connection, is reported as such.
    pub fn call_expecting_silence(&mut self, version: i16, body: RequestKind) -> Answered {
        let api_key = api_key_of(&body);
        let sent = self.send(version, body).and_then(|correlation_id| {
            let probe = RequestKind::ApiVersions(Default::default());
            self.send(0, probe)
                .map(|probe_id| (correlation_id, probe_id))
        });
        let Ok((correlation_id, probe_id)) = sent else {
            return Answered::Closed;
        };
        let Reply::Frame(frame) = self.receive() else {
            return Answered::Closed;
        };
        let answered_id = frame.first_chunk::<4>().map(|id| i32::from_be_bytes(*id));
        if answered_id == Some(probe_id) {
            return Answered::Silent;
        }
        decode(Reply::Frame(frame), api_key, version, correlation_id)
    }

    /// Reads and decodes the response to the request `correlation_id` of `api_key` at `version`.
    pub fn receive_for(&mut self, api_key: ApiKey, version: i16, correlation_id: i32) -> Answered {
        decode(self.receive(), api_key, version, correlation_id)
    }
}

/// Decodes a reply to the request `correlation_id` of `api_key` at `version`.
fn decode(reply: Reply, api_key: ApiKey, version: i16, correlation_id: i32) -> Answered {
    match reply {
        Reply::Silent => Answered::Silent,
        Reply::Closed => Answered::Closed,
        Reply::Frame(frame) => {
            // KIP-511: an ApiVersions version the broker does not know is answered at v0.
            let decode_version = if api_key == ApiKey::ApiVersions
                && version > ApiKey::ApiVersions.valid_versions().max
            {
                0
            } else {
                version
            };
            match decode_response(api_key, decode_version, frame) {
                Ok((header, _)) if header.correlation_id != correlation_id => {
                    Answered::Undecodable(format!(
                        "correlation id {} answers request {correlation_id}",
                        header.correlation_id
                    ))
                }
                Ok((_, body)) => Answered::Body(Box::new(body)),
                Err(e) => Answered::Undecodable(e.to_string()),
            }
        }
    }
}

/// A request's fate, with the typed body when one was decoded.
pub enum Answered {
    /// The decoded response body.
    Body(Box<ResponseKind>),
    /// Nothing within the read timeout.
    Silent,
    /// The connection was closed.
    Closed,
    /// A frame came that the protocol crate could not decode (or for another request).
    Undecodable(String),
}

/// The API a request body belongs to (the scenarios use these).
fn api_key_of(body: &RequestKind) -> ApiKey {
    match body {
        RequestKind::Produce(_) => ApiKey::Produce,
        RequestKind::Fetch(_) => ApiKey::Fetch,
        RequestKind::ListOffsets(_) => ApiKey::ListOffsets,
        RequestKind::Metadata(_) => ApiKey::Metadata,
        RequestKind::ApiVersions(_) => ApiKey::ApiVersions,
        RequestKind::CreateTopics(_) => ApiKey::CreateTopics,
        RequestKind::DeleteTopics(_) => ApiKey::DeleteTopics,
        RequestKind::InitProducerId(_) => ApiKey::InitProducerId,
        other => panic!("differential scenarios do not send {other:?}"),
    }
}
