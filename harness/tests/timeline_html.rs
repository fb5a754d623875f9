//! The HTML timeline is one self-contained page that shows the run's lanes, its faults and the
//! records it found duplicated.

use std::path::Path;

use ktrial_harness::scenario::load_file;
use ktrial_harness::sim::run;
use ktrial_harness::timeline;

#[test]
fn html_timeline_shows_lanes_faults_and_the_duplicate() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/scenarios/lost-response-without-idempotence.toml");
    let scenario = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
    let report = run(&scenario, scenario.seed).expect("run");
    assert_eq!(report.findings.duplicated.len(), 1);
    let page = timeline::html(&report, scenario.cluster.brokers);
    assert!(page.starts_with("<!doctype html>"));
    assert!(!page.contains("<script src"), "no external resources");
    for needle in ["client", "broker1", "lose_response_and_close", "Duplicated"] {
        assert!(page.contains(needle), "missing {needle}");
    }
    let duplicate = report.findings.duplicated[0].to_string();
    assert!(
        page.contains(&format!("Duplicated (stored more than once): {duplicate}")),
        "the duplicated record is listed"
    );
    assert!(page.matches("<line class=\"request\"").count() > 10);
}
