//! One client connection: read a frame, decode it, hand it to [`handlers::handle`], write the
//! answer, then read the next. Like Kafka, a connection processes one request at a time
//! (`SocketServer` mutes a channel until its response is sent), so pipelined requests are
//! answered strictly in order and a slow acks=all produce or fetch holds only its own
//! connection. Bad input closes only this connection, with one log line. Each request goes
//! through [`exchange`](super::exchange) (journal, interceptor, fault plan, handler); a lost
//! response silences the connection for good, as a dead peer would, and a throttled response
//! holds the next request for the throttle time, as Kafka mutes a throttled channel.

use bytes::BytesMut;
use ktrial_protocol::ProtocolError;
use ktrial_protocol::codec::{decode_request, encode_response, peek_request_prefix};
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::ApiKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Duration;
use tracing::{debug, warn};

use super::exchange::{Step, exchange};
use super::listener::Listener;
use crate::handlers::{RequestContext, api_versions};
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
    let mut silent = false;
    let mut held_until = None;
    loop {
        let frame = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => break frame,
                Ok(None) => {}
                Err(e) => return End::Closed(format!("bad frame: {e}")),
            }
            match cluster
                .clock()
                .timeout(MAX_IDLE, stream.read_buf(&mut buf))
                .await
            {
                Err(_) => return End::Closed("idle too long".into()),
                Ok(Err(e)) => return End::Closed(format!("read failed: {e}")),
                Ok(Ok(0)) if buf.is_empty() => return End::Normal,
                Ok(Ok(0)) => {
                    return End::Closed(format!("client left mid-frame ({} bytes)", buf.len()));
                }
                Ok(Ok(_)) => {}
            }
        };
        if silent {
            // A dead peer hears nothing: read and forget until the client gives up.
            continue;
        }
        if let Some(until) = held_until.take() {
            cluster.clock().sleep_until(until).await;
        }
        let Ok(prefix) = peek_request_prefix(&frame) else {
            return End::Closed(format!(
                "frame of {} bytes is too short for a header",
                frame.len()
            ));
        };
        let step = match decode_request(frame) {
            Ok(request) if !api_versions::is_unsupported(request.api_key, request.version()) => {
                exchange(cluster, ctx, request).await
            }
            Ok(_) => unsupported(prefix.correlation_id),
            Err(ProtocolError::UnsupportedVersion { api_key, .. })
                if api_key == ApiKey::ApiVersions as i16 =>
            {
                unsupported(prefix.correlation_id)
            }
            Err(e) => return End::Closed(format!("undecodable request: {e}")),
        };
        match step {
            Step::Send(bytes, throttle) => {
                if let Err(e) = stream.write_all(&bytes).await {
                    return End::Closed(format!("write failed: {e}"));
                }
                held_until = throttle.map(|t| cluster.now() + t);
            }
            Step::Nothing => {}
            Step::Silence => silent = true,
            Step::Close(reason) => return End::Closed(reason),
        }
    }
}

/// ApiVersions v0 with UNSUPPORTED_VERSION, which every client understands (KIP-511).
fn unsupported(correlation_id: i32) -> Step {
    match encode_response(correlation_id, 0, &api_versions::unsupported_version()) {
        Ok(bytes) => Step::Send(bytes, None),
        Err(e) => Step::Close(format!("cannot encode the response: {e}")),
    }
}
