//! The text timeline: a header, the journal one line per entry, then the verdicts and the
//! records found lost, duplicated or reordered. Deterministic: the same run prints the same bytes.

use std::fmt::Write;

use crate::sim::RunReport;

/// The text timeline of a run.
pub fn text(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} seed {} journal {} simulated {} ms",
        report.scenario, report.seed, report.journal_hash, report.simulated_ms
    );
    out.push_str(&report.timeline);
    let f = &report.findings;
    let _ = writeln!(
        out,
        "sent {} acked {} failed {} lost {} duplicated {} reordered {} batches {} requests {}",
        f.sent,
        f.acked,
        f.failed,
        f.lost.len(),
        f.duplicated.len(),
        f.reordered.len(),
        report.batches,
        report.requests
    );
    for verdict in &report.verdicts {
        let _ = writeln!(
            out,
            "{} {} (expected {:?}): {}",
            if verdict.passed() { "ok  " } else { "FAIL" },
            verdict.property,
            verdict.expected,
            verdict.detail
        );
    }
    for problem in &report.problems {
        let _ = writeln!(out, "problem: {problem}");
    }
    out
}
