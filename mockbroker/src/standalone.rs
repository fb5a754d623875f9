//! The standalone broker behind `ktrial broker`: start the cluster, print one line
//! `bootstrap=H:P1,H:P2,...` once every listener is up, serve until SIGINT or SIGTERM.

use std::io::Write;

use crate::error::BrokerError;
use crate::mock_cluster::MockClusterBuilder;

/// Runs the cluster on a new multi-threaded runtime until a signal; writes the bootstrap line
/// to `out` and flushes it.
pub fn run(builder: MockClusterBuilder, out: &mut impl Write) -> Result<(), BrokerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| BrokerError::Io {
            what: "starting the runtime".into(),
            source,
        })?;
    runtime.block_on(async {
        let cluster = builder.start().await?;
        let io = |source| BrokerError::Io {
            what: "writing the bootstrap line".into(),
            source,
        };
        writeln!(out, "bootstrap={}", cluster.bootstrap_servers()).map_err(io)?;
        out.flush().map_err(io)?;
        wait_for_signal().await?;
        tracing::info!("signal received, shutting down");
        cluster.shutdown().await;
        Ok(())
    })
}

#[cfg(unix)]
async fn wait_for_signal() -> Result<(), BrokerError> {
    use tokio::signal::unix::{SignalKind, signal};
    let io = |source| BrokerError::Io {
        what: "installing signal handlers".into(),
        source,
    };
    let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io)?;
    tokio::select! {
        biased;
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> Result<(), BrokerError> {
    tokio::signal::ctrl_c()
        .await
        .map_err(|source| BrokerError::Io {
            what: "waiting for Ctrl-C".into(),
            source,
        })
}
