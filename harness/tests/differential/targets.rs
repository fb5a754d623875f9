//! The two brokers a differential run talks to: real Kafka, started by `scripts/real-kafka.sh` and
//! stopped by a drop guard (the script's `--watch-pid` also stops it if this process dies without
//! unwinding), and `ktrial broker`, found through `KTRIAL_BROKER_BOOTSTRAP` or started from the
//! `ktrial` binary cargo built.
//!
//! Start-up contract shared by both: the command prints `bootstrap=HOST:PORT[,HOST:PORT…]` on
//! stdout once every broker answers.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/real-kafka.sh");
const KTRIAL: &str = env!("CARGO_BIN_EXE_ktrial");
/// How long `ktrial broker` may take to print its bootstrap line.
const KTRIAL_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running real Kafka cluster, stopped on drop if this test started it.
pub struct RealKafka {
    bootstrap: String,
    /// The script's state dir when the test started the cluster; `None` for an external cluster.
    state_dir: Option<PathBuf>,
}

impl RealKafka {
    /// Uses `KTRIAL_REAL_KAFKA_BOOTSTRAP`, or starts a single-node cluster with the script.
    pub fn start() -> Result<Self, String> {
        if let Ok(bootstrap) = std::env::var("KTRIAL_REAL_KAFKA_BOOTSTRAP") {
            return Ok(Self {
                bootstrap,
                state_dir: None,
            });
        }
        let unique = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let state_dir = std::env::temp_dir().join(format!(
            "ktrial-differential-{}-{unique}",
            std::process::id()
        ));
        let output = Command::new("bash")
            .arg(SCRIPT)
            .args(["start", "--brokers", "1", "--state-dir"])
            .arg(&state_dir)
            .args(["--watch-pid", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not run {SCRIPT}: {e}"))?;
        // From here on the guard owns whatever the script left (nothing, if it failed).
        let mut kafka = Self {
            bootstrap: String::new(),
            state_dir: Some(state_dir),
        };
        if !output.status.success() {
            return Err(format!(
                "{SCRIPT} start failed ({}); its messages are above. Set KTRIAL_NO_REAL_KAFKA=1 to skip.",
                output.status
            ));
        }
        kafka.bootstrap = bootstrap_line(&String::from_utf8_lossy(&output.stdout))
            .ok_or("the script printed no bootstrap= line")?;
        Ok(kafka)
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

impl Drop for RealKafka {
    fn drop(&mut self) {
        if let Some(state_dir) = &self.state_dir {
            let stopped = Command::new("bash")
                .arg(SCRIPT)
                .arg("stop")
                .arg("--state-dir")
                .arg(state_dir)
                .stdin(Stdio::null())
                .status();
            if !matches!(stopped, Ok(status) if status.success()) {
                eprintln!("differential: stopping real Kafka failed: {stopped:?}");
            }
        }
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
