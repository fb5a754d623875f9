//! The verdict: each expectation of a scenario set against what the checkers found.

use serde::Serialize;

use super::Findings;
use crate::scenario::{Expect, Expectations};

/// One property's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyVerdict {
    /// The property's name, as in `[expect]`.
    pub property: &'static str,
    /// What the scenario expected.
    pub expected: Expect,
    /// Whether a violation was found.
    pub violated: bool,
    /// What was found, for people.
    pub detail: String,
}

impl PropertyVerdict {
    /// Whether the expectation is met.
    pub fn passed(&self) -> bool {
        match self.expected {
            Expect::Ignored => true,
            Expect::Holds => !self.violated,
            Expect::Violated => self.violated,
        }
    }
}

/// Every checked property of a run, in `[expect]` order.
///
/// ```
/// use ktrial_harness::check::{judge, Findings};
/// use ktrial_harness::scenario::{Expect, Expectations};
///
/// let findings = Findings { sent: 3, acked: 3, duplicated: vec![1], ..Findings::default() };
/// let expect = Expectations { no_duplicates: Expect::Violated, no_loss: Expect::Holds, ..Expectations::default() };
/// let verdicts = judge(&findings, &expect);
/// assert!(verdicts.iter().all(|v| v.passed()));
/// assert_eq!(verdicts.len(), 2); // ignored properties are left out
/// ```
pub fn judge(findings: &Findings, expect: &Expectations) -> Vec<PropertyVerdict> {
    let undelivered = findings.sent.saturating_sub(findings.acked);
    let checks: [(&'static str, Expect, bool, String); 7] = [
        (
            "no_loss",
            expect.no_loss,
            !findings.lost.is_empty(),
            format!(
                "{} acknowledged record(s) missing{}",
                findings.lost.len(),
                sample(&findings.lost)
            ),
        ),
        (
            "no_duplicates",
            expect.no_duplicates,
            !findings.duplicated.is_empty(),
            format!(
                "{} record(s) stored twice{}",
                findings.duplicated.len(),
                sample(&findings.duplicated)
            ),
        ),
        (
            "ordered",
            expect.ordered,
            !findings.reordered.is_empty(),
            format!(
                "{} record(s) stored after a later one{}",
                findings.reordered.len(),
                findings
                    .reordered
                    .first()
                    .map_or(String::new(), |r| format!(
                        ", first: record {} at partition {} offset {} after record {}",
                        r.id, r.partition, r.offset, r.after_id
                    ))
            ),
        ),
        (
            "ordered_per_key",
            expect.ordered_per_key,
            !findings.reordered_per_key.is_empty(),
            format!(
                "{} record(s) stored after a later one with the same key",
                findings.reordered_per_key.len()
            ),
        ),
        (
            "batch_bounds",
            expect.batch_bounds,
            !findings.batch_violations.is_empty(),
            summary(&findings.batch_violations, "batch bound(s) exceeded"),
        ),
        (
            "acks_semantics",
            expect.acks_semantics,
            !findings.acks_violations.is_empty(),
            summary(&findings.acks_violations, "acks violation(s)"),
        ),
        (
            "all_delivered",
            expect.all_delivered,
            undelivered > 0,
            format!(
                "{} of {} acknowledged, {} failed{}",
                findings.acked,
                findings.sent,
                findings.failed,
                findings
                    .first_error
                    .as_ref()
                    .map_or(String::new(), |e| format!(", first: {e}"))
            ),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, expected, _, _)| *expected != Expect::Ignored)
        .map(|(property, expected, violated, detail)| PropertyVerdict {
            property,
            expected,
            violated,
            detail,
        })
        .collect()
}

fn sample(ids: &[u64]) -> String {
    match ids {
        [] => String::new(),
        ids => {
            let shown: Vec<String> = ids.iter().take(5).map(u64::to_string).collect();
            let more = if ids.len() > 5 { ", …" } else { "" };
            format!(" (ids {}{more})", shown.join(", "))
        }
    }
}

fn summary(problems: &[String], what: &str) -> String {
    match problems.first() {
        None => format!("no {what}"),
        Some(first) => format!("{} {what}, first: {first}", problems.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_fails_on_a_violation_and_violated_fails_without_one() {
        let clean = Findings {
            sent: 2,
            acked: 2,
            ..Findings::default()
        };
        let lossy = Findings {
            lost: vec![4],
            ..clean.clone()
        };
        let holds = Expectations {
            no_loss: Expect::Holds,
            ..Expectations::default()
        };
        let violated = Expectations {
            no_loss: Expect::Violated,
            ..Expectations::default()
        };
        assert!(judge(&clean, &holds)[0].passed());
        assert!(!judge(&lossy, &holds)[0].passed());
        assert!(judge(&lossy, &violated)[0].passed());
        assert!(!judge(&clean, &violated)[0].passed());
        assert!(judge(&lossy, &holds)[0].detail.contains("ids 4"));
    }

    #[test]
    fn undelivered_records_violate_all_delivered() {
        let findings = Findings {
            sent: 5,
            acked: 3,
            failed: 2,
            ..Findings::default()
        };
        let expect = Expectations {
            all_delivered: Expect::Holds,
            ..Expectations::default()
        };
        let verdict = &judge(&findings, &expect)[0];
        assert!(!verdict.passed());
        assert_eq!(verdict.detail, "3 of 5 acknowledged, 2 failed");
    }
}
