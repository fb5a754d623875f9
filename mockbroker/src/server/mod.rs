//! Serving brokers: an accept loop per broker over any [`Listener`], one task per connection,
//! all stopped by one shutdown signal.

pub mod connection;
pub mod listener;

use std::sync::Arc;

use ktrial_protocol::frame::FrameDecoder;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Duration, sleep};
use tracing::{info, warn};

pub use listener::Listener;

use crate::handlers::RequestContext;
use crate::model::BrokerId;
use crate::shared::SharedCluster;

/// Pause after a failed accept (out of file descriptors, say) before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves `broker` on `listener` until `shutdown` turns true; then closes every connection and
/// returns once their tasks have ended.
pub async fn serve<L: Listener>(
    mut listener: L,
    broker: BrokerId,
    cluster: Arc<SharedCluster>,
    decoder: FrameDecoder,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let mut next_connection = 0u64;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                next_connection += 1;
                let ctx = RequestContext {
                    broker,
                    connection: next_connection,
                    peer,
                };
                let cluster = Arc::clone(&cluster);
                let shutdown = shutdown.clone();
                connections.spawn(async move {
                    connection::serve::<L>(stream, ctx, &cluster, decoder, shutdown).await;
                });
            }
            Err(e) => {
                warn!(broker, "accept failed: {e}");
                sleep(ACCEPT_RETRY).await;
            }
        }
    }
    while connections.join_next().await.is_some() {}
    info!(broker, "broker stopped");
}
