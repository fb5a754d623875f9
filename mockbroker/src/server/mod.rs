//! Serving brokers: an accept loop per broker over any [`Listener`], one task per connection,
//! all stopped by one shutdown signal; and [`run_broker`], which follows the broker's state in
//! the model — serving while it is up, its listener dropped and connections closed while it is
//! down (a `broker_down` event), bound again when it comes back.

mod bind;
pub mod connection;
mod exchange;
pub mod listener;

use std::sync::Arc;

use ktrial_protocol::frame::FrameDecoder;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Duration;
use tracing::{info, warn};

pub use bind::{Bind, OnceBind, TcpBind};
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
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let ctx = RequestContext {
                    broker,
                    connection: cluster.next_connection(broker),
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
                cluster.clock().sleep(ACCEPT_RETRY).await;
            }
        }
    }
    while connections.join_next().await.is_some() {}
    info!(broker, "broker stopped");
}

/// Serves `broker` for as long as the cluster runs, following its up/down state in the model:
/// while up, a listener from `bind` serves it; when it goes down, the listener is dropped (new
/// connections are refused) and every connection closes; when it comes back, `bind` is asked
/// for a new listener. Returns once `shutdown` turns true and every connection has ended.
///
/// The harness runs this on each simulated host with its own [`Bind`].
pub async fn run_broker<B: Bind>(
    mut bind: B,
    broker: BrokerId,
    cluster: Arc<SharedCluster>,
    decoder: FrameDecoder,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => return,
            () = cluster.wait_for_broker(broker, true) => {}
        }
        let listener = match bind.bind().await {
            Ok(listener) => listener,
            Err(e) => {
                warn!(
                    broker,
                    "cannot listen: {e}; the broker stays unreachable until restarted"
                );
                tokio::select! {
                    biased;
                    _ = shutdown.wait_for(|stop| *stop) => return,
                    () = cluster.wait_for_broker(broker, false) => continue,
                }
            }
        };
        info!(broker, "broker listening");
        let (stop, stopped) = watch::channel(false);
        let serving = serve(listener, broker, Arc::clone(&cluster), decoder, stopped);
        tokio::pin!(serving);
        let shutting_down = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => true,
            () = cluster.wait_for_broker(broker, false) => false,
            () = &mut serving => false,
        };
        stop.send_replace(true);
        serving.await;
        if shutting_down {
            return;
        }
    }
}
