//! A fault schedule: the value `explore` generates and shrinks, and how it replaces a scenario's
//! own faults.

use ktrial_mockbroker::faults::{ClusterEvent, FaultRule};

use crate::scenario::{Faults, NetworkFault, Scenario, ScenarioEvent};

/// One fault of a schedule: the unit that shrinking removes.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// A fault-plan rule of the mock broker.
    Rule(FaultRule),
    /// A cluster event at a time or after a number of acknowledged records.
    Event(ScenarioEvent),
    /// A broker goes down at `at_ms` and comes back `down_ms` later (two cluster events).
    Outage {
        /// The broker.
        broker: i32,
        /// When it goes down, simulated milliseconds.
        at_ms: u64,
        /// How long it stays down.
        down_ms: u64,
    },
    /// A fault of the simulated network.
    Network(NetworkFault),
}

/// A generated schedule: the simulation's seed and the faults that replace the scenario's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The seed the case runs with.
    pub seed: u64,
    /// The faults, in the order the fault plan sees them.
    pub faults: Vec<Fault>,
}

impl Schedule {
    /// The scenario's fault section for this schedule.
    pub fn to_faults(&self) -> Faults {
        let mut faults = Faults::default();
        for fault in &self.faults {
            match fault {
                Fault::Rule(rule) => faults.rules.push(rule.clone()),
                Fault::Event(event) => faults.events.push(event.clone()),
                Fault::Outage {
                    broker,
                    at_ms,
                    down_ms,
                } => {
                    let at = |at_ms, event| ScenarioEvent {
                        at_ms: Some(at_ms),
                        after_acked: None,
                        event,
                    };
                    let broker = *broker;
                    faults
                        .events
                        .push(at(*at_ms, ClusterEvent::BrokerDown { broker }));
                    faults
                        .events
                        .push(at(at_ms + down_ms, ClusterEvent::BrokerUp { broker }));
                }
                Fault::Network(network) => faults.network.push(network.clone()),
            }
        }
        faults
    }

    /// `scenario` with this schedule's faults and seed in place of its own.
    pub fn apply_to(&self, scenario: &Scenario) -> Scenario {
        Scenario {
            seed: self.seed,
            faults: self.to_faults(),
            ..scenario.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_becomes_a_down_and_an_up_event() {
        let schedule = Schedule {
            seed: 3,
            faults: vec![Fault::Outage {
                broker: 2,
                at_ms: 40,
                down_ms: 25,
            }],
        };
        let faults = schedule.to_faults();
        let events: Vec<_> = faults
            .events
            .iter()
            .map(|e| (e.at_ms, e.event.clone()))
            .collect();
        assert_eq!(
            events,
            [
                (Some(40), ClusterEvent::BrokerDown { broker: 2 }),
                (Some(65), ClusterEvent::BrokerUp { broker: 2 }),
            ]
        );
        assert!(faults.rules.is_empty() && faults.network.is_empty());
    }
}
