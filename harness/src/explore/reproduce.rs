//! The reproduction file: the minimal schedule as a scenario file that `ktrial run` reproduces
//! exactly (same seed, same journal hash, same findings).
//!
//! Its expectations are the explored scenario's own. What must hold still says `holds`: when
//! the schedule broke one of those, the file is a failing test, like a proptest regression, that
//! `ktrial run` exits non-zero on until the bug is fixed. What the scenario expects violated (a
//! known failure mode, such as reordering with five requests in flight and no idempotence) says
//! `violated` when the schedule shows it: the file is a demonstration that `ktrial run` passes
//! on, and fails on once the schedule no longer shows it.

use super::Finding;

/// The text of the reproduction file: one comment line on what it shows, then the scenario.
pub fn reproduction_file(finding: &Finding, origin: &str) -> Result<String, toml::ser::Error> {
    let scenario = toml::to_string_pretty(&finding.scenario)?;
    let verdict = if finding.is_demonstration() {
        "a demonstration of what the scenario expects violated, so `ktrial run` passes while it reproduces"
    } else {
        "what must hold still says \"holds\", so `ktrial run` fails on it until fixed"
    };
    Ok(format!(
        "# Minimal schedule found by {origin}: {} with {} fault(s); {verdict}.\n{scenario}",
        finding.summary(),
        finding.minimal.faults.len(),
    ))
}
