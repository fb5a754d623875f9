//! One fault rule, `when <match> do <action>` with a limit, as written in TOML, JSON or Rust.

use std::fmt;

use ktrial_protocol::messages::ApiKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ErrorCode;

/// A fault rule: which requests it matches, what it does to them, how often.
///
/// In TOML (a scenario file or `ktrial broker --faults FILE`):
///
/// ```toml
/// [[rules]]
/// when = { api = "Produce", broker = 1, nth = 3 }
/// do = "lose_response"
/// limit = "once"
/// ```
///
/// In JSON (`POST /v1/faults`):
/// `{"when": {"api": "Produce", "topic": "orders"}, "do": {"error": {"code": "NOT_LEADER_OR_FOLLOWER"}}, "limit": 2}`
///
/// In Rust, starting from [`FaultRule::on`] or [`FaultRule::on_any`]:
/// `FaultRule::on(ApiKey::Produce).broker(1).nth(3).lose_response().once()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Which requests the rule applies to; every field is optional and all given must hold.
    #[serde(default)]
    pub when: Match,
    /// What happens to a matching request.
    #[serde(rename = "do")]
    pub action: Action,
    /// How many times the rule may fire.
    #[serde(default)]
    pub limit: Limit,
}

/// The conditions of a rule. A request matches when every condition given holds; `nth`, `every`
/// and `probability` then decide whether this particular match fires.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// The broker (node id) that received the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<i32>,
    /// The API, by Kafka's name (`Produce`, `Fetch`, `Metadata`, `InitProducerId`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiName>,
    /// A topic the request names (Produce, Fetch, ListOffsets, Metadata, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// A partition the request names (of `topic` when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    /// Fire on the n-th matching request only (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Fire on every k-th matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Match only from this many milliseconds of cluster time on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_ms: Option<u64>,
    /// Match only before this many milliseconds of cluster time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// Fire with this probability (0 to 1), drawn from the cluster's seeded RNG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// What a rule does to a request it fires on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Answer with an error code instead of applying: the whole request, or only the given
    /// partitions of a Produce or Fetch (the others are applied normally).
    Error {
        /// The error, by name or number.
        code: ErrorCode,
        /// Partitions to fail; all when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partitions: Option<Vec<i32>>,
    },
    /// Never apply, never answer; the connection stays open and silent from then on, as a
    /// dead peer would be, until the client gives up on it.
    Drop,
    /// Apply the request, then lose the response: the write lands, the client never hears,
    /// and the connection stays silent from then on.
    LoseResponse,
    /// Apply the request, lose the response and close the connection.
    LoseResponseAndClose,
    /// Apply and answer after an extra delay.
    Delay {
        /// Milliseconds of delay.
        ms: u64,
    },
    /// Close the connection without applying the request.
    CloseBefore,
    /// Apply the request, then close the connection without answering.
    CloseAfter,
    /// Apply and answer with `throttle_time_ms` set, and hold the connection's next requests
    /// for that long, as a quota-throttled Kafka broker does.
    Throttle {
        /// Milliseconds of throttle.
        ms: u64,
    },
    /// Apply, then flip bytes of the response body so that the client cannot decode it.
    Corrupt,
}

/// How many times a rule may fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Limit {
    /// Once, then the rule is spent.
    Once,
    /// N times.
    Times(u32),
    /// Without end (the default).
    #[default]
    Always,
}

impl Limit {
    /// Whether a rule that fired `fired` times may fire again.
    pub fn allows(self, fired: u64) -> bool {
        match self {
            Limit::Once => fired < 1,
            Limit::Times(n) => fired < u64::from(n),
            Limit::Always => true,
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Limit::Once => serializer.serialize_str("once"),
            Limit::Always => serializer.serialize_str("always"),
            Limit::Times(n) => serializer.serialize_u32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Times(i64),
            Word(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Times(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .map(Limit::Times)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("limit must be a positive count, got {n}"))
                }),
            Raw::Word(word) => match word.as_str() {
                "once" => Ok(Limit::Once),
                "always" => Ok(Limit::Always),
                other => Err(serde::de::Error::custom(format!(
                    "limit must be \"once\", \"always\" or a positive count, got {other:?}"
                ))),
            },
        }
    }
}

/// An API named as Kafka names it (`Produce`, `ApiVersions`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiName(pub ApiKey);

impl fmt::Display for ApiName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::str::FromStr for ApiName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiKey::iter()
            .find(|key| format!("{key:?}").eq_ignore_ascii_case(s))
            .map(ApiName)
            .ok_or_else(|| {
                format!("unknown API {s:?} (use a Kafka API name such as Produce or Fetch)")
            })
    }
}

impl Serialize for ApiName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A rule that is well-formed but cannot be right: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidRule {
    /// The field at fault, as a path (`when.probability`).
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What a rule may refer to in the cluster it is added to.
pub trait Topology {
    /// Whether a broker with this node id exists.
    fn has_broker(&self, broker: i32) -> bool;
    /// The partition count of a topic, if it exists.
    fn partition_count(&self, topic: &str) -> Option<i32>;
}

/// Longest delay or throttle a rule may ask for: an hour of cluster time.
const MAX_DELAY_MS: u64 = 3_600_000;

impl FaultRule {
    /// Checks what serde cannot: ranges, consistency, and that the brokers, topics and
    /// partitions named exist in `topology`.
    pub fn validate(&self, topology: &dyn Topology) -> Result<(), InvalidRule> {
        let bad = |field: &str, reason: String| {
            Err(InvalidRule {
                field: field.to_string(),
                reason,
            })
        };
        let when = &self.when;
        if let Some(broker) = when.broker.filter(|b| !topology.has_broker(*b)) {
            return bad("when.broker", format!("no broker {broker} in the cluster"));
        }
        match (&when.topic, when.partition) {
            (Some(topic), partition) => match topology.partition_count(topic) {
                None => return bad("when.topic", format!("no topic {topic:?} in the cluster")),
                Some(count) => {
                    if let Some(p) = partition.filter(|p| *p < 0 || *p >= count) {
                        return bad(
                            "when.partition",
                            format!("topic {topic:?} has partitions 0..{count}, not {p}"),
                        );
                    }
                }
            },
            (None, Some(p)) if p < 0 => {
                return bad("when.partition", format!("negative partition {p}"));
            }
            _ => {}
        }
        if self.limit == Limit::Times(0) {
            return bad("limit", "must be a positive count".into());
        }
        if when.nth == Some(0) {
            return bad("when.nth", "counts from 1".into());
        }
        if when.every == Some(0) {
            return bad("when.every", "must be at least 1".into());
        }
        if let Some(p) = when.probability.filter(|p| !(0.0..=1.0).contains(p)) {
            return bad("when.probability", format!("{p} is not between 0 and 1"));
        }
        if let (Some(after), Some(until)) = (when.after_ms, when.until_ms)
            && after >= until
        {
            return bad(
                "when.until_ms",
                format!("window is empty: after_ms {after} >= until_ms {until}"),
            );
        }
        match &self.action {
            Action::Error { code, .. } if code.code() == 0 => {
                bad("do.error.code", "NONE is not an error".into())
            }
            Action::Error {
                partitions: Some(partitions),
                ..
            } if partitions.iter().any(|p| *p < 0) => {
                bad("do.error.partitions", "negative partition".into())
            }
            Action::Delay { ms } | Action::Throttle { ms } if *ms > MAX_DELAY_MS => bad(
                "do",
                format!("{ms} ms is longer than the {MAX_DELAY_MS} ms allowed"),
            ),
            _ => Ok(()),
        }
    }
}
