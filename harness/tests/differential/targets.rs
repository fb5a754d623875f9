//! The two brokers a differential run talks to: real Kafka, started by `scripts/real-kafka.sh` and
//! stopped by a drop guard (the script's `--watch-pid` also stops it if this process dies without
//! unwinding), and `ktrial broker`, found through `KTRIAL_BROKER_BOOTSTRAP` or started from the
//! `ktrial` binary cargo built.
//!
//! Start-up contract shared by both: the command prints `bootstrap=HOST:PORT[,HOST:PORT…]` on
//! stdout once every broker answers.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// Broker signals (`signal_broker`) are for the producer's failover test, not used here.
#[allow(dead_code)]
#[path = "../../../scripts/real_kafka_cluster.rs"]
mod script;

use script::ScriptCluster;

const KTRIAL: &str = env!("CARGO_BIN_EXE_ktrial");
/// How long `ktrial broker` may take to print its bootstrap line.
const KTRIAL_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running real Kafka cluster, stopped on drop if this test started it.
pub struct RealKafka {
    bootstrap: String,
    /// The cluster when the test started it; `None` for an external cluster. Held for its drop.
    _started: Option<ScriptCluster>,
}

impl RealKafka {
    /// Uses `KTRIAL_REAL_KAFKA_BOOTSTRAP`, or starts a single-node cluster with the script.
    pub fn start() -> Result<Self, String> {
        if let Ok(bootstrap) = std::env::var("KTRIAL_REAL_KAFKA_BOOTSTRAP") {
            return Ok(Self {
                bootstrap,
                _started: None,
            });
        }
        let unique = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let cluster = ScriptCluster::start(
            &format!("ktrial-differential-{}-{unique}", std::process::id()),
            1,
        )?;
        Ok(Self {
            bootstrap: cluster.bootstrap().to_string(),
            _started: Some(cluster),
        })
    }

    /// `host:port` of every broker, comma-separated.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The first broker's `host:port`.
    pub fn first_broker(&self) -> &str {
        first(&self.bootstrap)
    }
}

/// A `ktrial broker` to compare with, stopped on drop if this test started it.
pub struct KtrialBroker {
    bootstrap: String,
    child: Option<Child>,
}

impl KtrialBroker {
    /// Uses `KTRIAL_BROKER_BOOTSTRAP`, or starts `ktrial broker --host 127.0.0.1 --port 0`; the error
    /// says why no broker is available.
    pub fn locate() -> Result<Self, String> {
        if let Ok(bootstrap) = std::env::var("KTRIAL_BROKER_BOOTSTRAP") {
            return Ok(Self {
                bootstrap,
                child: None,
            });
        }
        let help = Command::new(KTRIAL)
            .args(["broker", "--help"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {KTRIAL}: {e}"))?;
        if !help.status.success() {
            return Err(
                "`ktrial broker` does not exist yet (`ktrial broker --help` failed)".into(),
            );
        }
        let mut child = Command::new(KTRIAL)
            .args(["broker", "--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start `ktrial broker`: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (found, wait) = mpsc::channel();
        std::thread::spawn(move || {
            let line = BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| bootstrap_line(&line));
            let _ = found.send(line);
        });
        let mut broker = Self {
            bootstrap: String::new(),
            child: Some(child),
        };
        match wait.recv_timeout(KTRIAL_START_TIMEOUT) {
            Ok(Some(bootstrap)) => {
                broker.bootstrap = bootstrap;
                Ok(broker)
            }
            _ => Err(format!(
                "`ktrial broker --host 127.0.0.1 --port 0` printed no bootstrap= line within {KTRIAL_START_TIMEOUT:?}"
            )),
        }
    }

    /// `host:port` of every broker, comma-separated.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The first broker's `host:port`.
    pub fn first_broker(&self) -> &str {
        first(&self.bootstrap)
    }
}

impl Drop for KtrialBroker {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn bootstrap_line(output: &str) -> Option<String> {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix("bootstrap="))
        .map(str::to_string)
}

fn first(bootstrap: &str) -> &str {
    bootstrap.split(',').next().unwrap_or(bootstrap)
}
