//! `--repeat N`: real time is not deterministic, so a property's verdict against a real client
//! is a rate over runs. A property expected to hold fails if any run violated it; a
//! demonstration (expected violated) passes if at least one run showed the violation; a run
//! whose driver failed fails the whole.

use serde::Serialize;

use super::runner::LiveRun;
use crate::scenario::Expect;

/// One property over the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyRate {
    /// The property, as in `[expect]`.
    pub property: &'static str,
    /// What was expected of this client.
    pub expected: Expect,
    /// Runs (whose driver finished) that violated it.
    pub violated: usize,
    /// Runs whose driver finished.
    pub runs: usize,
    /// The first violation's detail.
    pub detail: String,
}

impl PropertyRate {
    /// Whether the expectation is met over the runs.
    pub fn passed(&self) -> bool {
        match self.expected {
            Expect::Ignored => true,
            Expect::Holds => self.violated == 0,
            Expect::Violated => self.violated > 0,
        }
    }
}

/// Every run of one scenario against one client.
#[derive(Debug)]
pub struct Repeated {
    /// The runs, in order.
    pub runs: Vec<LiveRun>,
}

impl Repeated {
    /// Per checked property, how many runs violated it.
    pub fn rates(&self) -> Vec<PropertyRate> {
        let finished: Vec<&LiveRun> = self
            .runs
            .iter()
            .filter(|r| r.driver_failure.is_none())
            .collect();
        let mut rates: Vec<PropertyRate> = Vec::new();
        for run in &finished {
            for verdict in &run.report.verdicts {
                let rate = match rates.iter_mut().find(|r| r.property == verdict.property) {
                    Some(rate) => rate,
                    None => {
                        rates.push(PropertyRate {
                            property: verdict.property,
                            expected: verdict.expected,
                            violated: 0,
                            runs: finished.len(),
                            detail: String::new(),
                        });
                        rates.last_mut().expect("just pushed")
                    }
                };
                if verdict.violated {
                    rate.violated += 1;
                    if rate.detail.is_empty() {
                        rate.detail = verdict.detail.clone();
                    }
                }
            }
        }
        rates
    }

    /// Runs whose driver failed, with why.
    pub fn driver_failures(&self) -> Vec<&str> {
        self.runs
            .iter()
            .filter_map(|r| r.driver_failure.as_deref())
            .collect()
    }

    /// Problems outside the expectations (events that could not fire), over all runs.
    pub fn problems(&self) -> Vec<&str> {
        self.runs
            .iter()
            .flat_map(|r| r.report.problems.iter().map(String::as_str))
            .collect()
    }

    /// Whether every driver finished, nothing else went wrong, and every property's rate meets
    /// its expectation.
    pub fn passed(&self) -> bool {
        !self.runs.is_empty()
            && self.driver_failures().is_empty()
            && self.problems().is_empty()
            && self.rates().iter().all(PropertyRate::passed)
    }
}
