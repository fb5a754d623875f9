//! Reading scenario files: TOML into the model, then the checks serde cannot make (topology,
//! ranges, references). Every refusal names the file, the line and the field, and nothing runs.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ktrial_mockbroker::faults::{InvalidRule, Topology};

use super::model::{ClusterSpec, NetworkFault, Scenario};

/// A scenario file that cannot be run, and why.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's content is refused.
    #[error("{}:{line}: {field}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending field (or of the error, for syntax errors).
        line: usize,
        /// The field as a path (`cluster.topics[0].replication`), or `(syntax)`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Loads and checks a scenario file; the scenario's name defaults to the file's stem.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut scenario = parse(&text, path)?;
    if scenario.name.is_empty() {
        scenario.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    Ok(scenario)
}

/// Parses and checks scenario text; `path` is only used in errors.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, LoadError> {
    let invalid = |span: Option<Range<usize>>, field: String, message: String| LoadError::Invalid {
        path: path.to_path_buf(),
        line: span.map_or(1, |s| line_of(text, s.start)),
        field,
        message,
    };
    let deserializer = toml::Deserializer::parse(text)
        .map_err(|e| invalid(e.span(), "(syntax)".into(), e.message().to_string()))?;
    let scenario: Scenario = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        invalid(inner.span(), field, inner.message().to_string())
    })?;
    validate(&scenario).map_err(|problem| {
        let span = toml_edit::Document::parse(text)
            .ok()
            .and_then(|doc| span_of(doc.as_item(), &problem.path));
        invalid(span, problem.field(), problem.message)
    })?;
    Ok(scenario)
}

/// Checks a scenario built in code by the rules a file must pass; errors name the field (the
/// line is 1, as there is no file).
pub(super) fn check(scenario: &Scenario, path: &Path) -> Result<(), LoadError> {
    validate(scenario).map_err(|problem| LoadError::Invalid {
        path: path.to_path_buf(),
        line: 1,
        field: problem.field(),
        message: problem.message,
    })
}

/// One segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A semantic problem: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    path: Vec<Segment>,
    message: String,
}

impl Problem {
    fn at(path: &str, message: impl Into<String>) -> Self {
        Problem {
            path: parse_path(path),
            message: message.into(),
        }
    }

    fn field(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            match segment {
                Segment::Key(k) if out.is_empty() => out.push_str(k),
                Segment::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

/// `faults.rules[2].when.topic` → segments.
fn parse_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, indices) = part
            .split_once('[')
            .map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        for index in indices.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                segments.push(Segment::Index(i));
            }
        }
    }
    segments
}

/// The span of the deepest item on `path` that the document has.
fn span_of(item: &toml_edit::Item, path: &[Segment]) -> Option<Range<usize>> {
    let Some((first, rest)) = path.split_first() else {
        return item.span();
    };
    let child = match first {
        Segment::Key(key) => item.get(key.as_str()),
        Segment::Index(i) => item.get(*i),
    };
    match child {
        Some(child) => span_of(child, rest)
            .or_else(|| child.span())
            .or_else(|| item.span()),
        None => item.span(),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Largest cluster and workload a scenario may ask for: a simulation, not a soak test.
const MAX_BROKERS: u32 = 64;
const MAX_PARTITIONS: u32 = 10_000;
const MAX_RECORDS: u64 = 10_000_000;

impl Topology for ClusterSpec {
    fn has_broker(&self, broker: i32) -> bool {
        broker >= 1 && (broker as u32) <= self.brokers
    }

    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics
            .iter()
            .find(|t| t.name == topic)
            .map(|t| t.partitions as i32)
    }
}

fn validate(scenario: &Scenario) -> Result<(), Problem> {
    let cluster = &scenario.cluster;
    if cluster.brokers == 0 || cluster.brokers > MAX_BROKERS {
        return Err(Problem::at(
            "cluster.brokers",
            format!("must be between 1 and {MAX_BROKERS}"),
        ));
    }
    if cluster.min_insync_replicas == 0 {
        return Err(Problem::at(
            "cluster.min_insync_replicas",
            "must be at least 1",
        ));
    }
    for (i, topic) in cluster.topics.iter().enumerate() {
        let at = |field: &str| format!("cluster.topics[{i}].{field}");
        if topic.name.is_empty() {
            return Err(Problem::at(&at("name"), "must not be empty"));
        }
        if cluster.topics[..i].iter().any(|t| t.name == topic.name) {
            return Err(Problem::at(
                &at("name"),
                format!("topic {:?} is listed twice", topic.name),
            ));
        }
        if topic.partitions == 0 || topic.partitions > MAX_PARTITIONS {
            return Err(Problem::at(
                &at("partitions"),
                format!("must be between 1 and {MAX_PARTITIONS}"),
            ));
        }
        if topic.replication == 0 || topic.replication > cluster.brokers {
            return Err(Problem::at(
                &at("replication"),
                format!(
                    "{} replicas cannot be placed on {} broker(s)",
                    topic.replication, cluster.brokers
                ),
            ));
        }
    }
    let workload = &scenario.workload;
    if cluster.partition_count(&workload.topic).is_none() && !cluster.auto_create_topics {
        return Err(Problem::at(
            "workload.topic",
            format!(
                "topic {:?} is not in cluster.topics and auto_create_topics is off",
                workload.topic
            ),
        ));
    }
    if workload.records == 0 || workload.records > MAX_RECORDS {
        return Err(Problem::at(
            "workload.records",
            format!("must be between 1 and {MAX_RECORDS}"),
        ));
    }
    if workload.value_size < 8 {
        return Err(Problem::at(
            "workload.value_size",
            "must be at least 8 (the record number is written into the value)",
        ));
    }
    if workload.rate.is_some_and(|r| !r.is_finite() || r <= 0.0) {
        return Err(Problem::at("workload.rate", "must be a positive number"));
    }
    if workload.flush_every == Some(0) {
        return Err(Problem::at("workload.flush_every", "must be at least 1"));
    }
    let faults = &scenario.faults;
    for (i, rule) in faults.rules.iter().enumerate() {
        rule.validate(cluster)
            .map_err(|e| rule_problem(&format!("faults.rules[{i}]"), e))?;
    }
    for (i, event) in faults.events.iter().enumerate() {
        if event.at_ms.is_some() && event.after_acked.is_some() {
            return Err(Problem::at(
                &format!("faults.events[{i}].after_acked"),
                "give at_ms or after_acked, not both",
            ));
        }
        event
            .event
            .validate(cluster)
            .map_err(|e| rule_problem(&format!("faults.events[{i}]"), e))?;
    }
    for (i, fault) in faults.network.iter().enumerate() {
        let broker = match fault {
            NetworkFault::Partition { broker, .. }
            | NetworkFault::Hold { broker, .. }
            | NetworkFault::Latency { broker, .. }
            | NetworkFault::Crash { broker, .. } => *broker,
        };
        if !cluster.has_broker(broker) {
            return Err(Problem::at(
                &format!("faults.network[{i}]"),
                format!(
                    "no broker {broker} in the cluster (brokers are 1..={})",
                    cluster.brokers
                ),
            ));
        }
    }
    Ok(())
}

fn rule_problem(prefix: &str, e: InvalidRule) -> Problem {
    Problem::at(&format!("{prefix}.{}", e.field), e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Expect;

    const GOOD: &str = r#"
description = "two brokers, one topic"
seed = 7

[cluster]
brokers = 2
min_insync_replicas = 2

[[cluster.topics]]
name = "orders"
partitions = 3
replication = 2

[producer]
acks = "all"
"linger.ms" = 5
"enable.idempotence" = true

[workload]
topic = "orders"
records = 100
keys = 10

[[faults.rules]]
when = { api = "Produce", nth = 3 }
do = "lose_response"

[[faults.events]]
after_acked = 50
event = { elect_leader = { topic = "orders", partition = 0 } }

[expect]
no_loss = "holds"
ordered = "violated"
"#;

    fn refusal(text: &str) -> (usize, String, String) {
        match parse(text, Path::new("s.toml")) {
            Err(LoadError::Invalid {
                line,
                field,
                message,
                ..
            }) => (line, field, message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_good_file_loads_with_its_values() {
        let scenario = parse(GOOD, Path::new("s.toml")).unwrap();
        assert_eq!(scenario.cluster.topics[0].replication, 2);
        assert_eq!(scenario.producer["linger.ms"].0, "5");
        assert_eq!(scenario.producer["enable.idempotence"].0, "true");
        assert_eq!(scenario.faults.events[0].after_acked, Some(50));
        assert_eq!(scenario.expect.ordered, super::super::Expect::Violated);
    }

    #[test]
    fn an_unknown_key_is_refused_with_line_and_field() {
        let text = GOOD.replace("keys = 10", "keys = 10\nkey_space = 3");
        let (line, field, message) = refusal(&text);
        assert_eq!(line, 23, "{message}");
        assert!(field.starts_with("workload"), "{field}");
        assert!(message.contains("key_space"), "{message}");
    }

    #[test]
    fn a_wrong_type_is_refused_with_line_and_field() {
        let text = GOOD.replace("records = 100", "records = \"many\"");
        let (line, field, _) = refusal(&text);
        assert_eq!((line, field.as_str()), (21, "workload.records"));
    }

    #[test]
    fn an_impossible_topology_is_refused_with_line_and_field() {
        let text = GOOD.replace("replication = 2", "replication = 3");
        let (line, field, message) = refusal(&text);
        assert_eq!(
            (line, field.as_str()),
            (12, "cluster.topics[0].replication")
        );
        assert!(
            message.contains("3 replicas cannot be placed on 2"),
            "{message}"
        );
    }

    #[test]
    fn faults_naming_missing_things_are_refused() {
        let text = GOOD.replace("partition = 0 }", "partition = 9 }");
        let (line, field, _) = refusal(&text);
        assert_eq!(line, 30);
        assert!(field.starts_with("faults.events[0]"), "{field}");
        let text = GOOD.replace("api = \"Produce\"", "api = \"Produc\"");
        let (line, field, message) = refusal(&text);
        assert_eq!(line, 25, "{field}: {message}");
        assert!(message.contains("unknown API"), "{message}");
    }

    #[test]
    fn client_tables_in_expect_are_read_and_misspellings_refused() {
        let text = format!(
            "{GOOD}\n[expect.sarama]\nreason = \"one request at a time\"\nwithout = [\"linger.ms\"]\nordered = \"holds\"\n\n[client.sarama]\n\"Net.MaxOpenRequests\" = 1\n"
        );
        let scenario = parse(&text, Path::new("s.toml")).unwrap();
        let (sarama, reason) = scenario.expect.for_client("sarama");
        assert_eq!(sarama.ordered, Expect::Holds);
        assert_eq!(sarama.no_loss, Expect::Holds, "the rest is [expect]'s");
        assert_eq!(reason, Some("one request at a time"));
        assert_eq!(scenario.expect.clients["sarama"].without, ["linger.ms"]);
        assert_eq!(scenario.client["sarama"]["Net.MaxOpenRequests"].0, "1");
        assert_eq!(
            scenario.expect.for_client("java").0.ordered,
            Expect::Violated
        );

        let (_, field, message) =
            refusal(&GOOD.replace("no_loss = \"holds\"", "no_los = \"holds\""));
        assert_eq!(field, "expect.no_los");
        assert!(
            message.contains("`no_los` is neither a property"),
            "{message}"
        );
        let (_, _, message) = refusal(&format!("{GOOD}\n[expect.sarama]\nordered = \"holds\"\n"));
        assert!(message.contains("missing field `reason`"), "{message}");
    }

    #[test]
    fn syntax_errors_point_at_their_line() {
        let (line, field, _) = refusal("[cluster\nbrokers = 1");
        assert_eq!((line, field.as_str()), (1, "(syntax)"));
    }
}
