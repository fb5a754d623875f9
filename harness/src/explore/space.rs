//! What `explore` may generate around a scenario, as proptest strategies: Produce fault rules,
//! cluster events, broker outages and network faults, shaped by the scenario's cluster and by a
//! fault-free baseline run (how long it lasts, how many requests it sends).

use ktrial_mockbroker::{Action, ApiKey, ClusterEvent, ErrorCode, FaultRule, Limit, Match};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union};

use super::{Fault, Schedule};
use crate::scenario::{NetworkFault, Scenario, ScenarioEvent};
use crate::sim::RunReport;

/// Errors a Produce fault answers with: all retriable, so a producer with retries must survive
/// them (Kafka's `Errors.java`; the first is where shrinking goes).
const RETRIABLE_ERRORS: [&str; 5] = [
    "NOT_LEADER_OR_FOLLOWER",
    "NOT_ENOUGH_REPLICAS",
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
    "REQUEST_TIMED_OUT",
    "LEADER_NOT_AVAILABLE",
];
/// Longest extra delay a rule adds to a response.
const MAX_DELAY_MS: u64 = 500;
/// Largest `every` of a rule (every k-th Produce request).
const MAX_EVERY: u64 = 20;
/// Largest `limit = N` of a rule.
const MAX_TIMES: u32 = 5;

/// The room faults are drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpace {
    brokers: i32,
    /// The workload's topic and its partition count, when the cluster declares it.
    topic: Option<(String, i32)>,
    /// Whether the workload's topic has followers (replication stalls mean something).
    replicated: bool,
    /// Simulated milliseconds of the fault-free run: times and durations are drawn below it.
    horizon_ms: u64,
    /// Produce requests of the fault-free run: `nth` is drawn below it.
    requests: u64,
    records: u64,
}

impl FaultSpace {
    /// The space around `scenario`, given its fault-free `baseline` run.
    pub fn new(scenario: &Scenario, baseline: &RunReport) -> Self {
        let declared = scenario
            .cluster
            .topics
            .iter()
            .find(|t| t.name == scenario.workload.topic);
        Self {
            brokers: scenario.cluster.brokers as i32,
            topic: declared.map(|t| (t.name.clone(), t.partitions as i32)),
            replicated: declared.is_some_and(|t| t.replication > 1),
            horizon_ms: baseline.simulated_ms.max(1),
            requests: baseline.requests.max(1),
            records: scenario.workload.records.max(1),
        }
    }

    /// Schedules of up to `max_faults` faults, each with a seed drawn from the runner's RNG (the
    /// seed is kept while shrinking, so the minimal schedule runs on the same network).
    pub fn schedules(&self, max_faults: usize) -> impl Strategy<Value = Schedule> + use<> {
        (any::<u64>().no_shrink(), vec(self.fault(), 0..=max_faults))
            .prop_map(|(seed, faults)| Schedule { seed, faults })
    }

    /// One fault; rules are the most likely.
    fn fault(&self) -> BoxedStrategy<Fault> {
        let mut choices = vec![
            (4, self.rule().prop_map(Fault::Rule).boxed()),
            (1, self.outage()),
            (2, self.network().prop_map(Fault::Network).boxed()),
        ];
        if let Some(events) = self.event() {
            choices.push((1, events.prop_map(Fault::Event).boxed()));
        }
        Union::new_weighted(choices).boxed()
    }

    fn rule(&self) -> impl Strategy<Value = FaultRule> + use<> {
        let firing = prop_oneof![
            (1..=self.requests).prop_map(|n| (Some(n), None)),
            (2..=MAX_EVERY).prop_map(|k| (None, Some(k))),
        ];
        let codes: Vec<ErrorCode> = RETRIABLE_ERRORS
            .iter()
            .filter_map(|name| name.parse().ok())
            .collect();
        let action = prop_oneof![
            select(codes).prop_map(Action::error),
            Just(Action::LoseResponse),
            Just(Action::LoseResponseAndClose),
            Just(Action::CloseBefore),
            Just(Action::CloseAfter),
            (1..=MAX_DELAY_MS).prop_map(|ms| Action::Delay { ms }),
            Just(Action::Drop),
        ];
        // Never `always`: a schedule a correct producer cannot survive (every second request
        // dropped for ever) finds nothing but the retry budget.
        let limit = prop_oneof![Just(Limit::Once), (2..=MAX_TIMES).prop_map(Limit::Times),];
        (self.some_broker(), firing, action, limit).prop_map(
            |(broker, (nth, every), action, limit)| FaultRule {
                when: Match {
                    broker,
                    nth,
                    every,
                    ..FaultRule::on(ApiKey::Produce)
                },
                action,
                limit,
            },
        )
    }

    /// A broker to aim at, or none (every broker) in a cluster of one.
    fn some_broker(&self) -> BoxedStrategy<Option<i32>> {
        if self.brokers > 1 {
            proptest::option::of(1..=self.brokers).boxed()
        } else {
            Just(None).boxed()
        }
    }

    fn outage(&self) -> BoxedStrategy<Fault> {
        (1..=self.brokers, self.time(), self.duration())
            .prop_map(|(broker, at_ms, down_ms)| Fault::Outage {
                broker,
                at_ms,
                down_ms,
            })
            .boxed()
    }

    fn network(&self) -> impl Strategy<Value = NetworkFault> + use<> {
        (
            any::<bool>(),
            1..=self.brokers,
            self.time(),
            self.duration(),
        )
            .prop_map(|(hold, broker, at_ms, duration_ms)| {
                if hold {
                    NetworkFault::Hold {
                        broker,
                        at_ms,
                        duration_ms,
                    }
                } else {
                    NetworkFault::Partition {
                        broker,
                        at_ms,
                        duration_ms,
                    }
                }
            })
    }

    /// Clean elections of the workload's partitions and replication stalls, where the cluster
    /// has them, at a time or after a number of acknowledged records.
    fn event(&self) -> Option<BoxedStrategy<ScenarioEvent>> {
        let mut events: Vec<BoxedStrategy<ClusterEvent>> = Vec::new();
        if let Some((topic, partitions)) = self.topic.clone() {
            events.push(
                (0..partitions)
                    .prop_map(move |partition| ClusterEvent::ElectLeader {
                        topic: topic.clone(),
                        partition,
                        unclean: false,
                        leader: None,
                    })
                    .boxed(),
            );
        }
        if self.replicated {
            events.push(
                (1..=self.brokers, self.duration())
                    .prop_map(|(broker, ms)| ClusterEvent::StallReplication {
                        broker,
                        topic: None,
                        partition: None,
                        ms,
                    })
                    .boxed(),
            );
        }
        if events.is_empty() {
            return None;
        }
        let trigger = prop_oneof![
            self.time().prop_map(|at| (Some(at), None)),
            (1..=self.records).prop_map(|n| (None, Some(n))),
        ];
        Some(
            (trigger, Union::new(events))
                .prop_map(|((at_ms, after_acked), event)| ScenarioEvent {
                    at_ms,
                    after_acked,
                    event,
                })
                .boxed(),
        )
    }

    fn time(&self) -> std::ops::RangeInclusive<u64> {
        0..=self.horizon_ms
    }

    fn duration(&self) -> std::ops::RangeInclusive<u64> {
        1..=self.horizon_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_error_is_a_retriable_kafka_code() {
        for name in RETRIABLE_ERRORS {
            let code: ErrorCode = name.parse().unwrap();
            assert!(code.is_retriable(), "{name}");
        }
    }
}
