//! The Rust side of `scripts/real-kafka.sh`, shared by the test crates that run against real
//! Kafka (each includes this file with `#[path]`: `producer/tests/common/real_kafka.rs`,
//! `harness/tests/differential/targets.rs`). [`ScriptCluster`] starts a cluster through the
//! script and stops exactly that cluster on drop; the script's `--watch-pid` also stops it if the
//! test process dies without unwinding.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The script, found from the including crate's folder (one level below the repository root).
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/real-kafka.sh");

/// A cluster this process started with the script; stopped on drop.
pub struct ScriptCluster {
    bootstrap: String,
    state_dir: PathBuf,
}

impl ScriptCluster {
    /// Starts `brokers` nodes with their state in a fresh temporary folder named `state_name`,
    /// and waits until the script prints their `bootstrap=` line. The error carries the exit
    /// status; the script's own messages go to this process's stderr.
    pub fn start(state_name: &str, brokers: i32) -> Result<Self, String> {
        let state_dir = std::env::temp_dir().join(state_name);
        let output = Command::new("bash")
            .arg(SCRIPT)
            .args(["start", "--brokers", &brokers.to_string(), "--state-dir"])
            .arg(&state_dir)
            .args(["--watch-pid", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not run {SCRIPT}: {e}"))?;
        // From here on the guard owns whatever the script left (nothing, if it failed).
        let mut cluster = Self {
            bootstrap: String::new(),
            state_dir,
        };
        if !output.status.success() {
            return Err(format!(
                "{SCRIPT} start failed ({}); its messages are above. \
                 Set KTRIAL_NO_REAL_KAFKA=1 to skip the real-Kafka tests.",
                output.status
            ));
        }
        cluster.bootstrap = String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| line.trim().strip_prefix("bootstrap="))
            .ok_or("the script printed no bootstrap= line")?
            .to_string();
        Ok(cluster)
    }

    /// `host:port` of every broker in node id order, comma-separated.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Runs `real-kafka.sh <command> <node_id>` (`kill-broker`, `stop-broker`) on this cluster.
    pub fn signal_broker(&self, command: &str, node_id: i32) -> Result<(), String> {
        let status = Command::new("bash")
            .arg(SCRIPT)
            .args([command, &node_id.to_string(), "--state-dir"])
            .arg(&self.state_dir)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("could not run {SCRIPT}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{SCRIPT} {command} {node_id}: {status}"))
        }
    }
}

impl Drop for ScriptCluster {
    fn drop(&mut self) {
        let stopped = Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .arg("--state-dir")
            .arg(&self.state_dir)
            .stdin(Stdio::null())
            .status();
        if !matches!(stopped, Ok(status) if status.success()) {
            eprintln!(
                "stopping real Kafka ({}) failed: {stopped:?}",
                self.state_dir.display()
            );
        }
    }
}
