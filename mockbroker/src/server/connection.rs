//! One client connection: read a frame, decode it, hand it to [`handlers::handle`], write the
//! answer, then read the next. Like Kafka, a connection processes one request at a time
//! (`SocketServer` mutes a channel until its response is sent), so pipelined requests are
//! answered strictly in order and a slow acks=all produce or fetch holds only its own
//! connection. Bad input closes only this connection, with one log line.

use bytes::BytesMut;
use ktrial_protocol::ProtocolError;
use ktrial_protocol::codec::{decode_request, encode_response, peek_request_prefix};
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::ApiKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Duration, timeout};
use tracing::{debug, warn};

use super::listener::Listener;
use crate::handlers::{self, Outcome, RequestContext, api_versions};
use crate::shared::SharedCluster;

/// `connections.max.idle.ms`: a connection silent for this long is closed.
const MAX_IDLE: Duration = Duration::from_secs(600);
/// Read buffer to start with; it grows only to the size a checked frame prefix announced.
const INITIAL_BUFFER: usize = 8 * 1024;

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The client closed it, or the broker shut down.
    Normal,
    /// Closed by the broker, for this reason.
    Closed(String),
}

/// Serves one connection until the client leaves, bad input, or shutdown.
pub(crate) async fn serve<L: Listener>(
    mut stream: L::Stream,
    ctx: RequestContext,
    cluster: &SharedCluster,
    decoder: FrameDecoder,
    mut shutdown: watch::Receiver<bool>,
) {
    let end = tokio::select! {
        biased;
        _ = shutdown.wait_for(|stop| *stop) => End::Normal,
        end = requests::<L>(&mut stream, &ctx, cluster, decoder) => end,
    };
    match end {
        End::Normal => debug!(
            broker = ctx.broker,
            connection = ctx.connection,
            "connection ended"
        ),
        End::Closed(reason) => warn!(
            broker = ctx.broker,
            connection = ctx.connection,
            peer = %ctx.peer,
            "closing connection: {reason}"
        ),
    }
    let _ = stream.shutdown().await;
}

async fn requests<L: Listener>(
    stream: &mut L::Stream,
    ctx: &RequestContext,
    cluster: &SharedCluster,
    mut decoder: FrameDecoder,
) -> End {
    let mut buf = BytesMut::with_capacity(INITIAL_BUFFER);
    loop {
        let frame = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => break frame,
                Ok(None) => {}
                Err(e) => return End::Closed(format!("bad frame: {e}")),
            }
            match timeout(MAX_IDLE, stream.read_buf(&mut buf)).await {
                Err(_) => return End::Closed("idle too long".into()),
                Ok(Err(e)) => return End::Closed(format!("read failed: {e}")),
                Ok(Ok(0)) if buf.is_empty() => return End::Normal,
                Ok(Ok(0)) => {
                    return End::Closed(format!("client left mid-frame ({} bytes)", buf.len()));
                }
                Ok(Ok(_)) => {}
            }
        };
        let Ok(prefix) = peek_request_prefix(&frame) else {
            return End::Closed(format!(
                "frame of {} bytes is too short for a header",
                frame.len()
            ));
        };
        let (answer, version) = match decode_request(frame) {
            Ok(request) if !api_versions::is_unsupported(request.api_key, request.version()) => {
                let version = request.version();
                (handlers::handle(cluster, ctx, request).await, version)
            }
            Ok(_) => (
                Outcome::Respond(Box::new(api_versions::unsupported_version())),
                0,
            ),
            Err(ProtocolError::UnsupportedVersion { api_key, .. })
                if api_key == ApiKey::ApiVersions as i16 =>
            {
                (
                    Outcome::Respond(Box::new(api_versions::unsupported_version())),
                    0,
                )
            }
            Err(e) => return End::Closed(format!("undecodable request: {e}")),
        };
        let response = match answer {
            Outcome::Respond(body) => body,
            Outcome::NoResponse => continue,
            Outcome::Close(reason) => return End::Closed(reason),
        };
        let bytes = match encode_response(prefix.correlation_id, version, &response) {
            Ok(bytes) => bytes,
            Err(e) => return End::Closed(format!("cannot encode the response: {e}")),
        };
        if let Err(e) = stream.write_all(&bytes).await {
            return End::Closed(format!("write failed: {e}"));
        }
    }
}
