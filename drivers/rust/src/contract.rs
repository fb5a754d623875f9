//! The client-independent half of the librdkafka driver (docs/drivers.md): the input object, the
//! JSON lines, the record layout and the clock.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use serde_json::{Map, Value, json};

/// How records are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Await each report before the next send.
    Sync,
    /// Send everything, collect reports as they come.
    Async,
    /// Send; report nothing per record but errors of the send call itself.
    FireAndForget,
}

/// The workload read on stdin.
#[derive(Debug, Clone)]
pub struct Input {
    /// `host:port,...`.
    pub bootstrap_servers: String,
    /// The topic.
    pub topic: String,
    /// Records to send.
    pub records: u64,
    /// Distinct keys; 0 sends null keys.
    pub keys: u64,
    /// Bytes of each value (at least 8).
    pub value_size: usize,
    /// How records are sent.
    pub mode: Mode,
    /// Records per second, from the started line.
    pub rate: Option<f64>,
    /// flush() after every this many records.
    pub flush_every: Option<u64>,
    /// Kafka-named producer properties.
    pub properties: BTreeMap<String, String>,
    /// Client-specific settings.
    pub native: BTreeMap<String, String>,
}

/// A configuration or input problem: the fatal line, exit status 2.
#[derive(Debug, Clone)]
pub struct Fatal {
    /// What is wrong.
    pub message: String,
    /// The key in `properties` or `native`, if one is at fault.
    pub property: Option<String>,
    /// `properties`, `native` or `input`.
    pub within: &'static str,
}

impl Fatal {
    /// A property of `properties`.
    pub fn property(name: &str, message: impl Into<String>) -> Self {
        Fatal {
            message: message.into(),
            property: Some(name.to_string()),
            within: "properties",
        }
    }

    fn input(message: impl Into<String>) -> Self {
        Fatal {
            message: format!("input: {}", message.into()),
            property: None,
            within: "input",
        }
    }

    /// Prints the fatal line and exits with status 2.
    pub fn exit(self) -> ! {
        emit(json!({"fatal": self.message, "property": self.property, "in": self.within}));
        std::process::exit(2)
    }
}

const FIELDS: [&str; 10] = [
    "bootstrap_servers",
    "topic",
    "records",
    "keys",
    "value_size",
    "mode",
    "rate",
    "flush_every",
    "properties",
    "native",
];

/// Reads and checks the input object on stdin.
pub fn read_input() -> Result<Input, Fatal> {
    let mut raw = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut raw)
        .map_err(|e| Fatal::input(format!("reading stdin: {e}")))?;
    let value: Value = serde_json::from_str(&raw).map_err(|e| Fatal::input(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(Fatal::input("expected one JSON object"));
    };
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Fatal::input(format!("unknown field {unknown}")));
    }
    let string = |name: &str| -> Result<String, Fatal> {
        object
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Fatal::input(format!("{name} is a required string")))
    };
    let count = |name: &str, default: Option<u64>| -> Result<Option<u64>, Fatal> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| Fatal::input(format!("{name} must be an integer >= 0"))),
        }
    };
    let map = |name: &'static str| -> Result<BTreeMap<String, String>, Fatal> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(m)) => strings(m, name),
            Some(_) => Err(Fatal::input(format!("{name} must be an object"))),
        }
    };
    let mode = match object.get("mode").and_then(Value::as_str) {
        None => Mode::Async,
        Some("sync") => Mode::Sync,
        Some("async") => Mode::Async,
        Some("fire-and-forget") => Mode::FireAndForget,
        Some(other) => {
            return Err(Fatal::input(format!(
                "mode {other:?} is not sync, async or fire-and-forget"
            )));
        }
    };
    let rate = match object.get("rate") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|r| *r > 0.0)
                .ok_or_else(|| Fatal::input("rate must be a number > 0"))?,
        ),
    };
    let flush_every = count("flush_every", None)?;
    if flush_every == Some(0) {
        return Err(Fatal::input("flush_every must be > 0"));
    }
    let properties = map("properties")?;
    if properties.contains_key("bootstrap.servers") {
        return Err(Fatal::property(
            "bootstrap.servers",
            "bootstrap.servers belongs in bootstrap_servers, not in properties",
        ));
    }
    Ok(Input {
        bootstrap_servers: string("bootstrap_servers")?,
        topic: string("topic")?,
        records: count("records", None)?.ok_or_else(|| Fatal::input("records is required"))?,
        keys: count("keys", Some(0))?.unwrap_or(0),
        value_size: count("value_size", Some(100))?.unwrap_or(100) as usize,
        mode,
        rate,
        flush_every,
        properties,
        native: map("native")?,
    })
}

fn strings(m: &Map<String, Value>, within: &'static str) -> Result<BTreeMap<String, String>, Fatal> {
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.trim().to_string())),
            _ => Err(Fatal {
                message: format!("{k}: values are strings"),
                property: Some(k.clone()),
                within,
            }),
        })
        .collect()
}

/// The value of record `id`: its id as 8 big-endian bytes, then `.` up to `value_size` bytes.
pub fn value_of(id: u64, value_size: usize) -> Vec<u8> {
    let mut value = vec![b'.'; value_size.max(8)];
    value[..8].copy_from_slice(&id.to_be_bytes());
    value
}

/// The key of record `id`: `key-<id mod keys>`, none without keys.
pub fn key_of(id: u64, keys: u64) -> Option<Vec<u8>> {
    (keys > 0).then(|| format!("key-{}", id % keys).into_bytes())
}

static START: OnceLock<Instant> = OnceLock::new();
static OUT: Mutex<()> = Mutex::new(());

/// Milliseconds since the started line (monotonic), to the microsecond.
pub fn ms() -> f64 {
    let elapsed = START.get_or_init(Instant::now).elapsed();
    (elapsed.as_micros() as f64) / 1000.0
}

/// The instant of the started line.
pub fn start() -> Instant {
    *START.get_or_init(Instant::now)
}

/// Writes one JSON line on stdout and flushes it.
pub fn emit(line: Value) {
    let _guard = OUT.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = std::io::stdout().lock();
    // A closed stdout (the harness went away) leaves nothing to report to.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prints the started line; the clock starts here.
pub fn started(client: &str, version: &str) {
    START.get_or_init(Instant::now);
    emit(json!({"event": "started", "ms": 0, "client": client, "client_version": version}));
}

/// Prints a flushed line.
pub fn flushed(sent: u64) {
    emit(json!({"event": "flushed", "sent": sent, "ms": ms()}));
}

/// Prints the final line.
pub fn done(sent: u64, acked: u64, failed: u64, client: &str, version: &str) {
    emit(json!({"done": true, "sent": sent, "acked": acked, "failed": failed, "ms": ms(),
                "client": client, "client_version": version}));
}

/// Delivery reports: each id printed once, counted.
#[derive(Debug, Default)]
pub struct Reporter {
    state: Mutex<(HashSet<u64>, u64, u64)>,
    reported: Condvar,
    /// acks=0: the broker never answers; offsets are printed as -1.
    pub acks_zero: bool,
}

impl Reporter {
    /// A reporter; `acks_zero` prints offsets as -1.
    pub fn new(acks_zero: bool) -> Self {
        Reporter {
            acks_zero,
            ..Reporter::default()
        }
    }

    fn first(&self, id: u64, ok: bool) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.0.insert(id) {
            eprintln!("driver: second report for record {id} dropped");
            return false;
        }
        if ok {
            state.1 += 1;
        } else {
            state.2 += 1;
        }
        self.reported.notify_all();
        true
    }

    /// Waits until `id` is reported or `deadline` passes; whether it was reported.
    pub fn wait_for(&self, id: u64, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.0.contains(&id) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = self
                .reported
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Record `id` is stored at `partition`/`offset`.
    pub fn ack(&self, id: u64, partition: i32, offset: i64) {
        if self.first(id, true) {
            let offset = if self.acks_zero { -1 } else { offset };
            emit(json!({"id": id, "partition": partition, "offset": offset, "ms": ms()}));
        }
    }

    /// Record `id` failed, with the client's error text.
    pub fn fail(&self, id: u64, error: &str) {
        if self.first(id, false) {
            emit(json!({"id": id, "error": error, "ms": ms()}));
        }
    }

    /// (acked, failed) so far.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (state.1, state.2)
    }
}

/// The longest single wait: the delivery timeout plus 20 s.
pub fn grace(delivery_timeout_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis(delivery_timeout_ms + 20_000)
}
