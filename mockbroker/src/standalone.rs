//! The standalone broker behind `ktrial broker`: start the cluster, print one line
//! `bootstrap=H:P1,H:P2,...` once every listener is up (then `control=H:P` when the control API
//! is on), serve until SIGINT or SIGTERM.

use std::io::Write;

use crate::error::BrokerError;
use crate::mock_cluster::MockClusterBuilder;

/// Runs the cluster on a new multi-threaded runtime until a signal, with the HTTP control API
/// on `control` (`host:port`) when given; writes the bootstrap line (and the control line) to
/// `out` and flushes it.
pub fn run_with_control(
    builder: MockClusterBuilder,
    control: Option<&str>,
    out: &mut impl Write,
) -> Result<(), BrokerError> {
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
        let (stop_control, control_stopped) = tokio::sync::oneshot::channel::<()>();
        let control_task = match control {
            Some(address) => {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| BrokerError::Io {
                        what: format!("binding the control API on {address}"),
                        source,
                    })?;
                let bound = listener.local_addr().map_err(|source| BrokerError::Io {
                    what: "reading the control address".into(),
                    source,
                })?;
                writeln!(out, "control={bound}").map_err(io)?;
                let shared = std::sync::Arc::clone(cluster.model());
                Some(tokio::spawn(crate::control::serve(
                    listener,
                    shared,
                    async {
                        let _ = control_stopped.await;
                    },
                )))
            }
            None => None,
        };
        out.flush().map_err(io)?;
        wait_for_signal().await?;
        let _ = stop_control.send(());
        if let Some(task) = control_task {
            let _ = task.await;
        }
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
