//! The fault plan: the rules in force, in order, and the decision for each request.
//!
//! Rules are tried in the order they were added; the first that fires decides what happens to
//! the request, and later rules do not see it. A rule counts the requests that match its
//! conditions (for `nth` and `every`) only while it is tried, and draws from the cluster's
//! seeded RNG only when every other condition holds, so the same requests and seed give the
//! same decisions.

use ktrial_protocol::messages::ApiKey;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::rule::{Action, FaultRule, InvalidRule, Topology};

/// Identifies a rule in a plan (answered by `POST /v1/faults`).
pub type RuleId = u64;

/// What the fault plan needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// The broker that received it.
    pub broker: i32,
    /// Its API.
    pub api: ApiKey,
    /// The topic-partitions it names (empty for APIs that name none).
    pub partitions: &'a [(&'a str, i32)],
    /// Cluster time in milliseconds.
    pub now_ms: u64,
}

/// A rule in force, with its counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveRule {
    /// Its id.
    pub id: RuleId,
    /// The rule as given.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Requests that matched its conditions so far.
    pub matched: u64,
    /// Times it fired.
    pub fired: u64,
}

/// A rule firing on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    /// The rule that fired.
    pub rule: RuleId,
    /// What it does.
    pub action: Action,
}

/// The rules in force.
///
/// ```
/// use ktrial_mockbroker::faults::{FaultPlan, RequestFacts, Topology};
/// use ktrial_mockbroker::{ApiKey, FaultRule};
/// use rand::SeedableRng;
///
/// struct OneTopic;
/// impl Topology for OneTopic {
///     fn has_broker(&self, b: i32) -> bool { b == 1 }
///     fn partition_count(&self, t: &str) -> Option<i32> { (t == "orders").then_some(3) }
/// }
///
/// let mut plan = FaultPlan::default();
/// plan.add(FaultRule::on(ApiKey::Produce).nth(2).lose_response(), &OneTopic)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
/// let facts = RequestFacts { broker: 1, api: ApiKey::Produce, partitions: &[("orders", 0)], now_ms: 0 };
/// assert!(plan.decide(&facts, &mut rng).is_none()); // the first Produce passes
/// assert!(plan.decide(&facts, &mut rng).is_some()); // the second is hit
/// assert!(plan.decide(&facts, &mut rng).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    rules: Vec<ActiveRule>,
    next_id: RuleId,
}

impl FaultPlan {
    /// Adds a rule after checking it against the cluster; answers its id.
    pub fn add(&mut self, rule: FaultRule, topology: &dyn Topology) -> Result<RuleId, InvalidRule> {
        rule.validate(topology)?;
        self.next_id += 1;
        let id = self.next_id;
        self.rules.push(ActiveRule {
            id,
            rule,
            matched: 0,
            fired: 0,
        });
        Ok(id)
    }

    /// Adds several rules, all or none: on the first invalid one nothing is added, and the error
    /// names its index (`rules[2].when.topic`).
    pub fn add_all(
        &mut self,
        rules: impl IntoIterator<Item = FaultRule>,
        topology: &dyn Topology,
    ) -> Result<Vec<RuleId>, InvalidRule> {
        let rules: Vec<FaultRule> = rules.into_iter().collect();
        for (i, rule) in rules.iter().enumerate() {
            rule.validate(topology).map_err(|e| InvalidRule {
                field: format!("rules[{i}].{}", e.field),
                reason: e.reason,
            })?;
        }
        Ok(rules
            .into_iter()
            .map(|rule| {
                self.next_id += 1;
                self.rules.push(ActiveRule {
                    id: self.next_id,
                    rule,
                    matched: 0,
                    fired: 0,
                });
                self.next_id
            })
            .collect())
    }

    /// Removes a rule; false if there was none with that id.
    pub fn remove(&mut self, id: RuleId) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        self.rules.len() != before
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules in force, in order.
    pub fn rules(&self) -> &[ActiveRule] {
        &self.rules
    }

    /// True when no rule is in force (the fast path of every request).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Decides what happens to a request: the first rule that fires, if any.
    pub fn decide(&mut self, facts: &RequestFacts<'_>, rng: &mut impl Rng) -> Option<Firing> {
        for active in &mut self.rules {
            if !active.rule.limit.allows(active.fired) || !conditions_hold(&active.rule, facts) {
                continue;
            }
            active.matched += 1;
            let when = &active.rule.when;
            let counted = when.nth.is_none_or(|n| active.matched == n)
                && when.every.is_none_or(|k| active.matched % k == 0);
            if counted && when.probability.is_none_or(|p| rng.random_bool(p)) {
                active.fired += 1;
                return Some(Firing {
                    rule: active.id,
                    action: active.rule.action.clone(),
                });
            }
        }
        None
    }
}

fn conditions_hold(rule: &FaultRule, facts: &RequestFacts<'_>) -> bool {
    let when = &rule.when;
    when.broker.is_none_or(|b| b == facts.broker)
        && when.api.is_none_or(|a| a.0 == facts.api)
        && when.after_ms.is_none_or(|t| facts.now_ms >= t)
        && when.until_ms.is_none_or(|t| facts.now_ms < t)
        && (when.topic.is_none() && when.partition.is_none()
            || facts.partitions.iter().any(|(topic, partition)| {
                when.topic.as_deref().is_none_or(|t| t == *topic)
                    && when.partition.is_none_or(|p| p == *partition)
            }))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::faults::Limit;

    struct Cluster;
    impl Topology for Cluster {
        fn has_broker(&self, broker: i32) -> bool {
            (1..=3).contains(&broker)
        }
        fn partition_count(&self, topic: &str) -> Option<i32> {
            (topic == "orders").then_some(6)
        }
    }

    fn rule(toml_text: &str) -> FaultRule {
        toml::from_str(toml_text).unwrap()
    }

    fn produce(broker: i32, partition: i32, now_ms: u64) -> RequestFacts<'static> {
        let partitions: &'static [(&'static str, i32)] = match partition {
            0 => &[("orders", 0)],
            1 => &[("orders", 1)],
            _ => &[("orders", 2)],
        };
        RequestFacts {
            broker,
            api: ApiKey::Produce,
            partitions,
            now_ms,
        }
    }

    fn fired(plan: &mut FaultPlan, facts: &[RequestFacts<'_>], seed: u64) -> Vec<bool> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        facts
            .iter()
            .map(|f| plan.decide(f, &mut rng).is_some())
            .collect()
    }

    #[test]
    fn nth_every_and_limits() {
        let mut plan = FaultPlan::default();
        plan.add(
            rule("when = { every = 2 }\ndo = \"drop\"\nlimit = 2"),
            &Cluster,
        )
        .unwrap();
        let requests = vec![produce(1, 0, 0); 7];
        assert_eq!(
            fired(&mut plan, &requests, 1),
            [false, true, false, true, false, false, false]
        );
        assert_eq!(plan.rules()[0].fired, 2);
    }

    #[test]
    fn broker_partition_and_window_conditions() {
        let mut plan = FaultPlan::default();
        plan.add(
            rule("when = { broker = 2, topic = \"orders\", partition = 1, after_ms = 100, until_ms = 200 }\ndo = \"corrupt\""),
            &Cluster,
        )
        .unwrap();
        let requests = [
            produce(1, 1, 150),
            produce(2, 0, 150),
            produce(2, 1, 99),
            produce(2, 1, 200),
            produce(2, 1, 100),
        ];
        assert_eq!(
            fired(&mut plan, &requests, 1),
            [false, false, false, false, true]
        );
    }

    #[test]
    fn first_firing_rule_wins_and_later_rules_do_not_count_it() {
        let mut plan = FaultPlan::default();
        let first = plan
            .add(rule("when = { nth = 1 }\ndo = \"drop\""), &Cluster)
            .unwrap();
        let second = plan
            .add(rule("when = { nth = 1 }\ndo = \"close_before\""), &Cluster)
            .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let request = produce(1, 0, 0);
        assert_eq!(plan.decide(&request, &mut rng).map(|f| f.rule), Some(first));
        assert_eq!(
            plan.decide(&request, &mut rng).map(|f| f.rule),
            Some(second)
        );
        assert_eq!(plan.decide(&request, &mut rng), None);
    }

    #[test]
    fn probability_is_seeded() {
        let requests = vec![produce(1, 0, 0); 200];
        let run = |seed| {
            let mut plan = FaultPlan::default();
            plan.add(
                rule("when = { probability = 0.3 }\ndo = \"drop\""),
                &Cluster,
            )
            .unwrap();
            fired(&mut plan, &requests, seed)
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        let hits = run(5).iter().filter(|f| **f).count();
        assert!((30..90).contains(&hits), "{hits} of 200 at p=0.3");
    }

    #[test]
    fn invalid_rules_name_their_field_and_add_nothing() {
        let mut plan = FaultPlan::default();
        let cases = [
            ("when = { topic = \"nope\" }\ndo = \"drop\"", "when.topic"),
            (
                "when = { topic = \"orders\", partition = 6 }\ndo = \"drop\"",
                "when.partition",
            ),
            ("when = { broker = 9 }\ndo = \"drop\"", "when.broker"),
            (
                "when = { probability = 1.5 }\ndo = \"drop\"",
                "when.probability",
            ),
            ("when = { nth = 0 }\ndo = \"drop\"", "when.nth"),
            ("do = { error = { code = \"NONE\" } }", "do.error.code"),
        ];
        for (text, field) in cases {
            assert_eq!(
                plan.add(rule(text), &Cluster).unwrap_err().field,
                field,
                "{text}"
            );
        }
        let batch = vec![
            rule("do = \"drop\""),
            rule("when = { broker = 7 }\ndo = \"drop\""),
        ];
        assert_eq!(
            plan.add_all(batch, &Cluster).unwrap_err().field,
            "rules[1].when.broker"
        );
        assert!(plan.is_empty());
    }

    #[test]
    fn unknown_names_and_fields_do_not_parse() {
        for text in [
            "when = { api = \"Produc\" }\ndo = \"drop\"",
            "do = { error = { code = \"NOT_A_CODE\" } }",
            "when = { colour = 1 }\ndo = \"drop\"",
            "do = \"explode\"",
            "do = \"drop\"\nlimit = -1",
            "do = \"drop\"\nlimit = \"twice\"",
        ] {
            assert!(toml::from_str::<FaultRule>(text).is_err(), "{text}");
        }
        let parsed = rule("do = { error = { code = 6, partitions = [0, 2] } }\nlimit = \"once\"");
        assert_eq!(parsed.limit, Limit::Once);
        assert_eq!(
            serde_json::to_string(&parsed.action).unwrap(),
            r#"{"error":{"code":"NOT_LEADER_OR_FOLLOWER","partitions":[0,2]}}"#
        );
    }
}
