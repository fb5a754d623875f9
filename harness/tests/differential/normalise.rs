//! Turns a decoded response into a comparable form: a flat list of `path = value` leaves (from the
//! message's pretty `Debug` output, so every field counts, including ones no scenario thought of),
//! with what legitimately differs between two brokers replaced by placeholders: cluster id, hosts and
//! ports, throttle times, topic ids, error message texts, the run's topic prefix and base timestamp;
//! node ids and producer ids are renumbered by rank so that their relations still compare.

use std::collections::{BTreeMap, BTreeSet};

/// One response, flattened: `(path, value)` in message order.
pub type Leaves = Vec<(String, String)>;

/// What a broker did with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A response, decoded and normalised.
    Answer(Leaves),
    /// No response (acks=0), checked by a later request answered first.
    NoAnswer,
    /// The broker closed the connection instead of answering.
    Closed,
    /// Bytes came back that the protocol crate could not decode.
    Undecodable(String),
}

impl Outcome {
    /// The value at the leaf whose path ends with `suffix`, if this is an answer holding one.
    pub fn get(&self, suffix: &str) -> Option<&str> {
        match self {
            Outcome::Answer(leaves) => leaves
                .iter()
                .find(|(path, _)| path.ends_with(suffix))
                .map(|(_, value)| value.as_str()),
            _ => None,
        }
    }

    /// One line for the report: the leaves that matter most (errors, offsets), or the event.
    pub fn summary(&self) -> String {
        match self {
            Outcome::NoAnswer => "no response".to_string(),
            Outcome::Closed => "connection closed".to_string(),
            Outcome::Undecodable(e) => format!("undecodable: {e}"),
            Outcome::Answer(leaves) => {
                let key: Vec<String> = leaves
                    .iter()
                    .filter(|(path, value)| {
                        let field = field_name(path);
                        (field == "error_code" && value != "0")
                            || matches!(field, "base_offset" | "offset" | "high_watermark")
                    })
                    .map(|(path, value)| format!("{}={value}", short_path(path)))
                    .collect();
                if key.is_empty() {
                    "ok".to_string()
                } else {
                    key.join(" ")
                }
            }
        }
    }
}

/// What is replaced in every answer of one run, the same for both brokers.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The prefix of every topic name the run creates.
    pub topic_prefix: String,
    /// The wall-clock millisecond all record timestamps of the run are offsets from.
    pub base_timestamp: i64,
}

/// Flattens `value`'s pretty `Debug` output into leaves and normalises them.
pub fn normalise(value: &impl std::fmt::Debug, run: &RunContext) -> Leaves {
    let mut leaves = flatten(&format!("{value:#?}"));
    for (path, value) in &mut leaves {
        *value = value.replace(&run.topic_prefix, "<run>-");
        let field = field_name(path);
        match field {
            "throttle_time_ms" => *value = "<throttle>".into(),
            "cluster_id" | "host" | "client_software_name" | "client_software_version"
                if value != "None" =>
            {
                *value = format!("<{field}>");
            }
            "port" => *value = "<port>".into(),
            "topic_id" if !value.starts_with("00000000-0000-0000-0000-000000000000") => {
                *value = "<topic id>".into()
            }
            "error_message" | "batch_index_error_message" if value != "None" => {
                *value = "<message>".into()
            }
            "finalized_features_epoch" => *value = "<epoch>".into(),
            "timestamp" | "log_append_time_ms" | "base_timestamp" | "max_timestamp" => {
                if let Ok(ms) = value.parse::<i64>()
                    && ms >= run.base_timestamp
                {
                    *value = format!("<t0>+{}", ms - run.base_timestamp);
                }
            }
            _ => {}
        }
    }
    renumber(&mut leaves, is_node_id_field, "node");
    renumber(&mut leaves, |f| f == "producer_id", "pid");
    leaves
}

/// The field a leaf belongs to: the last named segment of its path (`a.b[2]` → `b`; newtypes and
/// options print as one unnamed element, `name[0]` → `name`).
pub fn field_name(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

fn short_path(path: &str) -> String {
    path.replace("[0][0]", "[0]")
        .replace("responses[0].partition_responses[0].", "")
        .replace("responses[0].partitions[0].", "")
        .replace("topics[0].partitions[0].", "")
}

fn is_node_id_field(field: &str) -> bool {
    matches!(
        field,
        "node_id"
            | "leader_id"
            | "controller_id"
            | "replica_nodes"
            | "isr_nodes"
            | "offline_replicas"
            | "preferred_read_replica"
            | "broker_ids"
    )
}

/// Replaces non-negative ids in the chosen fields by `<kind>#rank` (rank among the distinct ids of
/// this answer), so that Kafka's node 1 and a mock's node 0 compare equal while "the leader is one
/// of the replicas" still shows.
fn renumber(leaves: &mut Leaves, is_field: impl Fn(&str) -> bool, kind: &str) {
    let ids: BTreeSet<i64> = leaves
        .iter()
        .filter(|(path, _)| is_field(field_name(path)))
        .filter_map(|(_, value)| value.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .collect();
    let rank: BTreeMap<i64, usize> = ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
    for (path, value) in leaves.iter_mut() {
        if is_field(field_name(path))
            && let Some(r) = value.parse::<i64>().ok().and_then(|id| rank.get(&id))
        {
            *value = format!("<{kind}#{r}>");
        }
    }
}

/// Parses pretty `Debug` output (`{:#?}`: one field or element per line, four spaces per level)
/// into `(path, value)` leaves.
fn flatten(pretty: &str) -> Leaves {
    // One open container per level: its path and how many unnamed elements it has had.
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut leaves = Vec::new();
    for line in pretty.lines() {
        let indent = (line.len() - line.trim_start().len()) / 4;
        let text = line.trim().trim_end_matches(',');
        if matches!(text, "}" | "]" | ")") {
            open.truncate(indent);
            continue;
        }
        open.truncate(indent);
        let (parent, count) = match open.last_mut() {
            Some((path, count)) => (path.clone(), count),
            None => (String::new(), &mut 0),
        };
        let (key, rest) = match split_field(text) {
            Some((name, rest)) => (join(&parent, name), rest),
            None => {
                let key = format!("{parent}[{count}]");
                *count += 1;
                (key, text)
            }
        };
        if rest.ends_with('{') || rest.ends_with('[') || rest.ends_with('(') {
            open.push((key, 0));
        } else if !rest.is_empty() {
            leaves.push((key, rest.to_string()));
        }
    }
    // The root is unnamed (`Answer {` prints as element 0); a wrapper such as `Fetch(` adds
    // another level. Neither says anything, so drop them.
    while !leaves.is_empty() && leaves.iter().all(|(path, _)| path.starts_with("[0].")) {
        for (path, _) in &mut leaves {
            path.drain(..4);
        }
    }
    leaves
}

/// `name: rest` when the line starts with a field name (not a quoted string or a number).
fn split_field(text: &str) -> Option<(&str, &str)> {
    let (name, rest) = text.split_once(": ")?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then_some((name, rest))
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug
    struct Partition {
        index: i32,
        error_code: i16,
        leader_id: i32,
        isr_nodes: Vec<i32>,
    }

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug
    struct Name(String);

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug
    struct Answer {
        throttle_time_ms: i32,
        name: Name,
        partitions: Vec<Partition>,
    }

    #[test]
    fn flattens_nested_messages_and_renumbers_node_ids() {
        let run = RunContext {
            topic_prefix: "diff-42-".into(),
            base_timestamp: 1_000,
        };
        let answer = Answer {
            throttle_time_ms: 7,
            name: Name("diff-42-orders".into()),
            partitions: vec![Partition {
                index: 0,
                error_code: 0,
                leader_id: 3,
                isr_nodes: vec![3, 1],
            }],
        };
        let leaves = normalise(&answer, &run);
        let expected: Leaves = [
            ("throttle_time_ms", "<throttle>"),
            ("name[0]", "\"<run>-orders\""),
            ("partitions[0].index", "0"),
            ("partitions[0].error_code", "0"),
            ("partitions[0].leader_id", "<node#1>"),
            ("partitions[0].isr_nodes[0]", "<node#1>"),
            ("partitions[0].isr_nodes[1]", "<node#0>"),
        ]
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
        assert_eq!(leaves, expected);
        assert_eq!(field_name("partitions[0].isr_nodes[1]"), "isr_nodes");
    }
}
