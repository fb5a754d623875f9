//! The reproduction file: the minimal schedule as a scenario file that `ktrial run` fails on in
//! exactly the way the exploration did.
//!
//! Its expectations say `holds` for every property explored (not `violated`): the file is a
//! failing test, like a proptest regression, that `ktrial run` exits non-zero on with the same
//! findings and journal hash, and that starts to pass once the bug is fixed.

use super::Finding;

/// The text of the reproduction file: one comment line on what it shows, then the scenario.
pub fn reproduction_file(finding: &Finding, origin: &str) -> Result<String, toml::ser::Error> {
    let scenario = toml::to_string_pretty(&finding.scenario)?;
    Ok(format!(
        "# Minimal schedule found by {origin}: {} with {} fault(s); expectations say \"holds\", so `ktrial run` fails on it until fixed.\n{scenario}",
        finding.summary(),
        finding.minimal.faults.len(),
    ))
}
