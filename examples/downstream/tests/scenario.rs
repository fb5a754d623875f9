//! A harness scenario written in Rust: the service's settings under lost responses, in simulated
//! time, judged by ktrial's checkers; the same seed gives the same journal, byte for byte.

use ktrial_harness::{Expect, Scenario, SendMode, run};
use ktrial_mockbroker::{ApiKey, FaultRule};

fn scenario() -> Scenario {
    Scenario::builder("orders-under-lost-responses")
        .brokers(3)
        .topic("orders", 3, 3)
        .producer("acks", "all")
        .producer("enable.idempotence", "true")
        .producer("linger.ms", "5")
        .producer("request.timeout.ms", "1000")
        .workload("orders", 2_000)
        .keys(10)
        .mode(SendMode::Async)
        .fault(
            FaultRule::on(ApiKey::Produce)
                .every(5)
                .lose_response()
                .times(4),
        )
        .expect_no_loss(Expect::Holds)
        .expect_no_duplicates(Expect::Holds)
        .expect_ordered(Expect::Holds)
        .build()
        .expect("a valid scenario")
}

#[test]
fn the_scenario_passes_and_replays_exactly() {
    let scenario = scenario();
    let first = run(&scenario, 7).expect("runs");
    assert!(first.passed(), "{:?}\n{}", first.verdicts, first.timeline);
    assert_eq!(first.findings.acked, 2_000);
    assert!(
        first.timeline.contains("lose_response"),
        "the faults fired: {}",
        first.timeline
    );
    let again = run(&scenario, 7).expect("runs");
    assert_eq!(again.journal_hash, first.journal_hash);
    assert_eq!(again.timeline, first.timeline);
    let other_seed = run(&scenario, 8).expect("runs");
    assert!(other_seed.passed(), "{:?}", other_seed.verdicts);
}
