//! Client drivers (`docs/drivers.md`): which program runs for a client name, the workload it is
//! given on stdin, and its report lines on stdout, read and checked one by one. A driver that
//! crashes, hangs, prints something that is not a report, or reports a record that was never
//! sent fails the run with an error naming the driver and the line; it is never a pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::scenario::{Scenario, SendMode};

/// The clients ktrial ships a driver for, by name.
pub const CLIENTS: [&str; 7] = [
    "java",
    "librdkafka",
    "sarama",
    "franz-go",
    "kafka-python",
    "kafkajs",
    "ktrial",
];

/// Bytes of stderr kept for the error message of a failed driver.
const STDERR_KEPT: usize = 4096;

/// A driver: the client's name and the command that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    /// The name results are shown under, and `[expect.<name>]` and `[client.<name>]` refer to.
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
}

/// A driver that could not be found or run, or that broke the contract.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The name is not a known client and not a command line.
    #[error(
        "unknown client `{0}`: give one of {clients}, `all`, or a driver's command line (with a `/` or a space)",
        clients = CLIENTS.join(", ")
    )]
    Unknown(String),
    /// A known client's driver is not installed.
    #[error("driver `{name}`: {path} not found (drivers/install.sh builds it; KTRIAL_DRIVERS names another drivers folder)", path = path.display())]
    NotInstalled {
        /// The client.
        name: String,
        /// Where its launcher was looked for.
        path: PathBuf,
    },
    /// The program could not be started, written to or read.
    #[error("driver `{name}`: {what}: {source}")]
    Io {
        /// The driver.
        name: String,
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The driver refused the workload, naming a property it cannot express.
    #[error("driver `{name}` refused the workload: {message}{}", property.as_ref().map(|p| format!(" (property `{p}`)")).unwrap_or_default())]
    Refused {
        /// The driver.
        name: String,
        /// Its message.
        message: String,
        /// The property or native setting it named.
        property: Option<String>,
    },
    /// A line of its output broke the contract.
    #[error("driver `{name}`: stdout line {line}: {problem}: {text}")]
    BadLine {
        /// The driver.
        name: String,
        /// 1-based line number on stdout.
        line: usize,
        /// What is wrong with it.
        problem: String,
        /// The line (cut at 200 characters).
        text: String,
    },
    /// It did not finish in time and was killed.
    #[error("driver `{name}` did not finish within {seconds} s and was killed; stderr: {stderr}")]
    Hung {
        /// The driver.
        name: String,
        /// The time it had.
        seconds: u64,
        /// The end of its stderr.
        stderr: String,
    },
    /// It exited without its final line, or with a failure status.
    #[error("driver `{name}` exited with {status} {}; stderr: {stderr}", if *.done { "after its final line" } else { "before its final line" })]
    Exited {
        /// The driver.
        name: String,
        /// Its exit status.
        status: String,
        /// Whether the final line came.
        done: bool,
        /// The end of its stderr.
        stderr: String,
    },
}

impl Driver {
    /// The driver for `spec`: a client name from [`CLIENTS`] (its launcher in `drivers/bin/`
    /// under `drivers_dir`; `ktrial` is this program's own `ktrial driver`), or a command line,
    /// split on spaces, named after its program's file stem.
    pub fn resolve(spec: &str, drivers_dir: &Path) -> Result<Driver, DriverError> {
        if spec.contains('/') || spec.contains(' ') {
            let command: Vec<String> = spec.split_whitespace().map(str::to_string).collect();
            let name = command
                .first()
                .and_then(|program| Path::new(program).file_stem())
                .map(|stem| stem.to_string_lossy().into_owned())
                .ok_or_else(|| DriverError::Unknown(spec.to_string()))?;
            return Ok(Driver { name, command });
        }
        if !CLIENTS.contains(&spec) {
            return Err(DriverError::Unknown(spec.to_string()));
        }
        if spec == "ktrial" {
            let exe = std::env::current_exe().map_err(|source| DriverError::Io {
                name: spec.to_string(),
                what: "finding this program",
                source,
            })?;
            return Ok(Driver {
                name: spec.to_string(),
                command: vec![exe.to_string_lossy().into_owned(), "driver".into()],
            });
        }
        let path = drivers_dir.join("bin").join(spec);
        if !path.is_file() {
            return Err(DriverError::NotInstalled {
                name: spec.to_string(),
                path,
            });
        }
        Ok(Driver {
            name: spec.to_string(),
            command: vec![path.to_string_lossy().into_owned()],
        })
    }

    /// Every client of `spec`: `all` is each of [`CLIENTS`], a comma-separated list each of its
    /// names.
    pub fn resolve_all(spec: &str, drivers_dir: &Path) -> Result<Vec<Driver>, DriverError> {
        if spec == "all" {
            return CLIENTS
                .iter()
                .map(|name| Driver::resolve(name, drivers_dir))
                .collect();
        }
        if spec.contains('/') || spec.contains(' ') {
            return Ok(vec![Driver::resolve(spec, drivers_dir)?]);
        }
        spec.split(',')
            .map(|name| Driver::resolve(name.trim(), drivers_dir))
            .collect()
    }
}

/// The workload as a driver reads it on stdin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverInput {
    /// `host:port,…` of the brokers.
    pub bootstrap_servers: String,
    /// The topic written to.
    pub topic: String,
    /// Records to send, numbered from 0.
    pub records: u64,
    /// Distinct keys (`key-<id mod keys>`); 0 sends null keys.
    #[serde(default)]
    pub keys: u64,
    /// Bytes of each value: the id as 8 big-endian bytes, then `.`.
    #[serde(default = "default_value_size")]
    pub value_size: usize,
    /// `sync`, `async` or `fire-and-forget`.
    #[serde(default)]
    pub mode: SendMode,
    /// Records per second, or as fast as the client takes them.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Flush after every this many records.
    #[serde(default)]
    pub flush_every: Option<u64>,
    /// Producer properties, by Kafka's names.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Settings in the client's own terms (`[client.<name>]`).
    #[serde(default)]
    pub native: BTreeMap<String, String>,
}

/// The contract's default value size, as the scenario schema's.
fn default_value_size() -> usize {
    100
}

impl DriverInput {
    /// The workload of `scenario` for the client `client`, against `bootstrap_servers`: its
    /// `[producer]` properties but `bootstrap.servers` and those its `[expect.<client>]` leaves
    /// out (`without`), and its `[client.<client>]` settings.
    pub fn of(scenario: &Scenario, client: &str, bootstrap_servers: &str) -> Self {
        let w = &scenario.workload;
        let without = scenario
            .expect
            .clients
            .get(client)
            .map_or(&[][..], |c| c.without.as_slice());
        DriverInput {
            bootstrap_servers: bootstrap_servers.to_string(),
            topic: w.topic.clone(),
            records: w.records,
            keys: w.keys,
            value_size: w.value_size,
            mode: w.mode,
            rate: w.rate,
            flush_every: w.flush_every,
            properties: scenario
                .producer
                .iter()
                .filter(|(k, _)| k.as_str() != "bootstrap.servers" && !without.contains(k))
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
            native: scenario
                .client
                .get(client)
                .map(|settings| {
                    settings
                        .iter()
                        .map(|(k, v)| (k.clone(), v.0.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// One report line of a driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Record `id` was acknowledged at `partition`/`offset`, `ms` after the driver started.
    Acked {
        /// The record.
        id: u64,
        /// Its partition.
        partition: i32,
        /// Its offset (-1 when the client is not told, as with acks=0).
        offset: i64,
        /// When, in the driver's milliseconds.
        ms: u64,
    },
    /// Record `id` failed with the client's own error text.
    Failed {
        /// The record.
        id: u64,
        /// The error.
        error: String,
        /// When.
        ms: u64,
    },
    /// Something else that happened (a flush), for the timeline.
    Event {
        /// What.
        event: String,
        /// When.
        ms: u64,
    },
    /// The final line.
    Done {
        /// Records handed to the client.
        sent: u64,
        /// The client's name and version, as it reports them.
        client_version: String,
    },
    /// The driver cannot run this workload.
    Fatal {
        /// Why.
        message: String,
        /// The property or setting it named.
        property: Option<String>,
    },
}

#[derive(Deserialize)]
struct RawLine {
    id: Option<u64>,
    partition: Option<i32>,
    offset: Option<i64>,
    error: Option<String>,
    event: Option<String>,
    #[serde(default)]
    done: bool,
    sent: Option<u64>,
    client: Option<String>,
    client_version: Option<String>,
    fatal: Option<String>,
    property: Option<String>,
    ms: Option<f64>,
}

/// Parses one stdout line against the contract; `records` is how many were sent, so an id at or
/// beyond it is refused.
pub fn parse_line(text: &str, records: u64) -> Result<Report, String> {
    let raw: RawLine = serde_json::from_str(text).map_err(|e| format!("not a JSON report: {e}"))?;
    let ms = raw.ms.unwrap_or(0.0).max(0.0) as u64;
    if let Some(message) = raw.fatal {
        return Ok(Report::Fatal {
            message,
            property: raw.property,
        });
    }
    if raw.done {
        return Ok(Report::Done {
            sent: raw.sent.ok_or("the final line has no `sent`")?,
            client_version: match (raw.client, raw.client_version) {
                (Some(client), Some(version)) => format!("{client} {version}"),
                (client, version) => client.or(version).unwrap_or_default(),
            },
        });
    }
    if let Some(event) = raw.event {
        return Ok(Report::Event { event, ms });
    }
    let id = raw.id.ok_or(
        "neither a delivery report (`id`), an `event`, the final line (`done`) nor `fatal`",
    )?;
    if id >= records {
        return Err(format!(
            "record {id} was never sent (the workload has {records})"
        ));
    }
    raw.ms.ok_or("a report without `ms`")?;
    if let Some(error) = raw.error {
        return Ok(Report::Failed { id, error, ms });
    }
    match (raw.partition, raw.offset) {
        (Some(partition), Some(offset)) => Ok(Report::Acked {
            id,
            partition,
            offset,
            ms,
        }),
        _ => Err("a delivery report needs `partition` and `offset`, or `error`".into()),
    }
}

/// A running driver.
pub struct Running {
    name: String,
    child: Child,
    /// Its process group (the driver's pid, as started).
    group: Option<u32>,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: tokio::task::JoinHandle<String>,
    line: usize,
    records: u64,
    done: bool,
}

impl Driver {
    /// Starts the driver and hands it `input`.
    pub async fn start(&self, input: &DriverInput) -> Result<Running, DriverError> {
        let io = |what| {
            let name = self.name.clone();
            move |source| DriverError::Io { name, what, source }
        };
        let (program, args) = self
            .command
            .split_first()
            .ok_or_else(|| DriverError::Unknown(String::new()))?;
        // Its own process group, so that whatever it starts (a launcher's JVM, a shell's
        // children) is killed with it.
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(io("starting it"))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| io("opening its stdin")(std::io::Error::other("no stdin")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io("opening its stdout")(std::io::Error::other("no stdout")))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| io("opening its stderr")(std::io::Error::other("no stderr")))?;
        // Whatever it writes on stderr is kept, the end of it, for a failure's message.
        let stderr = tokio::spawn(async move {
            let mut kept = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk).await {
                kept.extend_from_slice(&chunk[..n]);
                if kept.len() > 2 * STDERR_KEPT {
                    kept.drain(..kept.len() - STDERR_KEPT);
                }
            }
            let from = kept.len().saturating_sub(STDERR_KEPT);
            String::from_utf8_lossy(&kept[from..]).trim().to_string()
        });
        let mut json =
            serde_json::to_vec(input).map_err(|e| io("encoding the workload")(e.into()))?;
        json.push(b'\n');
        // A driver that exits at once (a bad property) may close stdin before reading it all.
        let _ = stdin.write_all(&json).await;
        drop(stdin);
        Ok(Running {
            name: self.name.clone(),
            group: child.id(),
            child,
            lines: BufReader::new(stdout).lines(),
            stderr,
            line: 0,
            records: input.records,
            done: false,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill_group();
    }
}

impl Running {
    /// The next report, `None` once stdout is closed.
    pub async fn next(&mut self) -> Result<Option<Report>, DriverError> {
        loop {
            let Some(text) = self
                .lines
                .next_line()
                .await
                .map_err(|source| DriverError::Io {
                    name: self.name.clone(),
                    what: "reading its stdout",
                    source,
                })?
            else {
                return Ok(None);
            };
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            let report =
                parse_line(&text, self.records).map_err(|problem| DriverError::BadLine {
                    name: self.name.clone(),
                    line: self.line,
                    problem,
                    text: text.chars().take(200).collect(),
                })?;
            if let Report::Fatal { message, property } = report {
                return Err(DriverError::Refused {
                    name: self.name.clone(),
                    message,
                    property,
                });
            }
            if matches!(report, Report::Done { .. }) {
                self.done = true;
            } else if self.done {
                return Err(self.bad_line(&text, "a report after the final line"));
            }
            return Ok(Some(report));
        }
    }

    /// An error for the current line.
    pub fn bad_line(&self, text: &str, problem: &str) -> DriverError {
        DriverError::BadLine {
            name: self.name.clone(),
            line: self.line,
            problem: problem.to_string(),
            text: text.chars().take(200).collect(),
        }
    }

    /// The error for a report of a record reported before.
    pub fn reported_twice(&self, id: u64) -> DriverError {
        self.bad_line(
            &format!("record {id}"),
            "a second report for the same record",
        )
    }

    /// Waits for the driver to exit, at most `grace`; a failure status or a missing final line
    /// is an error. Whatever it left running in its process group is killed.
    pub async fn finish(mut self, grace: Duration) -> Result<(), DriverError> {
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status.map_err(|source| DriverError::Io {
                name: self.name.clone(),
                what: "waiting for it",
                source,
            })?,
            Err(_) => return Err(self.kill(grace).await),
        };
        self.kill_group();
        let stderr = self.stderr_tail().await;
        if status.success() && self.done {
            return Ok(());
        }
        Err(DriverError::Exited {
            name: self.name.clone(),
            status: status.to_string(),
            done: self.done,
            stderr,
        })
    }

    /// Kills the driver's process group (a no-op once it is gone). Through `kill(1)`: this
    /// crate forbids the unsafe call that `killpg` is.
    fn kill_group(&self) {
        if let Some(pid) = self.group {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }

    /// The end of its stderr: what was read within a second (a child it left behind may hold
    /// stderr open).
    async fn stderr_tail(&mut self) -> String {
        match tokio::time::timeout(Duration::from_secs(1), &mut self.stderr).await {
            Ok(tail) => tail.unwrap_or_default(),
            Err(_) => {
                self.stderr.abort();
                String::new()
            }
        }
    }

    /// Kills the driver and its process group after it ran out of `time`; the error to report.
    pub async fn kill(mut self, time: Duration) -> DriverError {
        self.kill_group();
        let _ = self.child.kill().await;
        let stderr = self.stderr_tail().await;
        DriverError::Hung {
            name: self.name.clone(),
            seconds: time.as_secs(),
            stderr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_are_read_as_the_contract_says() {
        assert_eq!(
            parse_line(r#"{"id":3,"partition":1,"offset":7,"ms":12}"#, 10),
            Ok(Report::Acked {
                id: 3,
                partition: 1,
                offset: 7,
                ms: 12
            })
        );
        assert_eq!(
            parse_line(
                r#"{"id":9,"error":"Broker: Not enough replicas","ms":5}"#,
                10
            ),
            Ok(Report::Failed {
                id: 9,
                error: "Broker: Not enough replicas".into(),
                ms: 5
            })
        );
        assert_eq!(
            parse_line(
                r#"{"done":true,"sent":10,"ms":40,"client":"sarama","client_version":"1.61.1"}"#,
                10
            ),
            Ok(Report::Done {
                sent: 10,
                client_version: "sarama 1.61.1".into()
            })
        );
        assert!(matches!(
            parse_line(r#"{"fatal":"no linger","property":"linger.ms"}"#, 10),
            Ok(Report::Fatal { property: Some(p), .. }) if p == "linger.ms"
        ));
    }

    #[test]
    fn lines_that_break_the_contract_are_refused_with_a_reason() {
        let refused = |line: &str| parse_line(line, 10).unwrap_err();
        assert!(refused("delivered 3").contains("not a JSON report"));
        assert!(refused(r#"{"id":10,"partition":0,"offset":0,"ms":1}"#).contains("never sent"));
        assert!(refused(r#"{"id":1,"ms":1}"#).contains("needs `partition` and `offset`"));
        assert!(refused(r#"{"id":1,"partition":0,"offset":0}"#).contains("without `ms`"));
        assert!(refused(r#"{"hello":1}"#).contains("neither"));
        assert!(refused(r#"{"done":true}"#).contains("no `sent`"));
    }

    #[test]
    fn names_resolve_to_launchers_and_command_lines_to_themselves() {
        let dir = std::env::temp_dir();
        assert!(matches!(
            Driver::resolve("kafka-go", &dir),
            Err(DriverError::Unknown(name)) if name == "kafka-go"
        ));
        let missing = Driver::resolve("sarama", Path::new("/nonexistent")).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("/nonexistent/bin/sarama not found"),
            "{missing}"
        );
        let own = Driver::resolve("./my-driver.sh --fast", &dir).unwrap();
        assert_eq!(own.name, "my-driver");
        assert_eq!(own.command, ["./my-driver.sh", "--fast"]);
        let ours = Driver::resolve("ktrial", &dir).unwrap();
        assert_eq!(ours.command.last().map(String::as_str), Some("driver"));
    }
}
