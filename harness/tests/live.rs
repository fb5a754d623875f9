//! The real-time runner (`ktrial_harness::live`) end to end: ktrial's own producer as a driver
//! (`ktrial driver`, real TCP on loopback) against the scenario's mock cluster with its fault
//! plan, network faults and `after_acked` triggers, judged by the same checkers as the
//! simulation; drivers that break the contract (the shell scripts in `tests/live/`), which must
//! never pass; and `ktrial run --client` through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ktrial_harness::live::{CLIENTS, Driver, LiveRun, run_live};
use ktrial_harness::{
    ApiKey, ClusterEvent, Expect, FaultRule, NetworkFault, PropertyVerdict, Scenario,
    ScenarioBuilder, SendMode,
};
use ktrial_mockbroker::{Happening, NoticeKind};

/// ktrial's own producer over TCP: `ktrial driver`.
fn ktrial_driver() -> Driver {
    Driver {
        name: "ktrial".into(),
        command: vec![env!("CARGO_BIN_EXE_ktrial").into(), "driver".into()],
    }
}

/// The workspace root, where `fixtures/` is.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness is inside the workspace")
        .to_path_buf()
}

/// One of the fake drivers in `tests/live/`, made executable (git may not keep the mode bits),
/// with `args` after it.
fn fake(script: &str, args: &[&str]) -> Driver {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/live")
        .join(script);
    make_executable(&path);
    let mut command = vec![path.to_string_lossy().into_owned()];
    command.extend(args.iter().map(|a| a.to_string()));
    Driver {
        name: "fake".into(),
        command,
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions();
    if permissions.mode() & 0o111 != 0o111 {
        permissions.set_mode(permissions.mode() | 0o755);
        std::fs::set_permissions(path, permissions)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// A fresh, empty folder under the system's temporary folder.
fn temp_dir(what: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir =
        std::env::temp_dir().join(format!("ktrial-live-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A marker no other process has in its command line.
fn unique_marker(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("ktrial-live-{what}-{}-{nanos}", std::process::id())
}

/// Process ids whose command line contains `marker` (read from /proc, so that no pattern
/// matching on names is involved).
fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
        })
        .collect()
}

fn live(scenario: &Scenario, seed: u64, driver: &Driver) -> LiveRun {
    run_live(scenario, seed, driver)
        .unwrap_or_else(|e| panic!("{}: the run starts: {e}", scenario.name))
}

fn verdict<'a>(run: &'a LiveRun, property: &str) -> &'a PropertyVerdict {
    run.report
        .verdicts
        .iter()
        .find(|v| v.property == property)
        .unwrap_or_else(|| panic!("no verdict for {property}: {:?}", run.report.verdicts))
}

/// Everything a failed assertion should show about a run.
fn explain(run: &LiveRun) -> String {
    let timeline: String = run.report.timeline.chars().take(6_000).collect();
    format!(
        "driver_failure: {:?}\nclient: {}\nfindings: {:?}\nverdicts: {:#?}\nproblems: {:?}\nproduce requests: {}\ntimeline (start):\n{timeline}",
        run.driver_failure,
        run.client_version,
        run.report.findings,
        run.report.verdicts,
        run.report.problems,
        run.report.wire.produce.len(),
    )
}

fn every_property(builder: ScenarioBuilder, expect: Expect) -> ScenarioBuilder {
    builder
        .expect_no_loss(expect)
        .expect_no_duplicates(expect)
        .expect_ordered(expect)
        .expect_ordered_per_key(expect)
        .expect_batch_bounds(expect)
        .expect_acks_semantics(expect)
        .expect_all_delivered(expect)
}

fn responses_lost(run: &LiveRun) -> usize {
    run.report
        .journal
        .iter()
        .filter(|e| e.what == Happening::ResponseLost)
        .count()
}

/// Produce requests the brokers received that carried a batch of `partition`.
fn requests_for(run: &LiveRun, partition: i32) -> usize {
    run.report
        .wire
        .produce
        .iter()
        .filter(|r| r.batches.iter().any(|b| b.partition == partition))
        .count()
}

// ---------------------------------------------------------------------------------------------
// ktrial's producer as a driver, over real TCP
// ---------------------------------------------------------------------------------------------

#[test]
fn a_lost_response_with_idempotence_keeps_every_property_in_real_time() {
    let scenario = every_property(
        Scenario::builder("live-lost-response-idempotent")
            .brokers(3)
            .topic("orders", 3, 3)
            .producer("acks", "all")
            .producer("enable.idempotence", "true")
            .producer("request.timeout.ms", "1000")
            .workload("orders", 2_000)
            .keys(10)
            .mode(SendMode::Async)
            .fault(FaultRule::on(ApiKey::Produce).nth(3).lose_response().once()),
        Expect::Holds,
    )
    .build()
    .expect("scenario");
    let run = live(&scenario, 7, &ktrial_driver());
    let why = explain(&run);
    assert_eq!(run.driver_failure, None, "{why}");
    assert!(run.client_version.starts_with("ktrial"), "{why}");
    assert!(run.passed(), "{why}");
    for v in &run.report.verdicts {
        assert_eq!(v.expected, Expect::Holds, "{v:?}");
        assert!(!v.violated, "{} violated: {}\n{why}", v.property, v.detail);
    }
    assert_eq!(run.report.verdicts.len(), 7, "{why}");
    let f = &run.report.findings;
    assert_eq!((f.sent, f.acked, f.failed), (2_000, 2_000, 0), "{why}");
    assert!(f.lost.is_empty() && f.duplicated.is_empty(), "{why}");

    // The rule fired: the broker applied the 3rd Produce and never answered it.
    assert_eq!(responses_lost(&run), 1, "{why}");
    assert!(
        run.report
            .journal
            .iter()
            .any(|e| matches!(e.what, Happening::Fault { .. })),
        "{why}"
    );

    // The broker-side tap saw the client's Produce requests, batches and all.
    let wire = &run.report.wire;
    assert!(!wire.produce.is_empty(), "{why}");
    assert!(wire.produce.iter().all(|r| !r.batches.is_empty()), "{why}");
    assert!(
        wire.produce.iter().all(|r| r.acks == -1),
        "acks=all is -1 on the wire"
    );
    let records: i64 = wire
        .produce
        .iter()
        .flat_map(|r| &r.batches)
        .map(|b| i64::from(b.records))
        .sum();
    assert!(
        records >= 2_000,
        "{records} records in the tapped batches\n{why}"
    );
    assert!(
        wire.produce
            .iter()
            .flat_map(|r| &r.batches)
            .all(|b| b.topic == "orders")
    );
    let partitions: std::collections::BTreeSet<i32> = wire
        .produce
        .iter()
        .flat_map(|r| &r.batches)
        .map(|b| b.partition)
        .collect();
    assert_eq!(partitions.len(), 3, "10 keys over 3 partitions\n{why}");
    assert_eq!(run.report.requests, wire.produce.len() as u64);
    assert!(wire.undecodable.is_empty(), "{:?}", wire.undecodable);
    // Other requests (metadata, API versions, InitProducerId) were tapped too, and answered.
    assert!(!wire.other_requests.is_empty(), "{why}");
    assert!(!wire.responses.is_empty(), "{why}");
}

#[test]
fn lost_responses_without_idempotence_duplicate_with_five_in_flight() {
    let scenario = Scenario::builder("live-lost-responses-inflight5")
        .topic("payments", 1, 1)
        .producer("acks", "all")
        .producer("enable.idempotence", "false")
        .producer("max.in.flight.requests.per.connection", "5")
        .producer("retries", "5")
        .producer("request.timeout.ms", "1000")
        .producer("linger.ms", "0")
        .workload("payments", 300)
        .keys(10)
        .mode(SendMode::Async)
        .rate(600.0)
        .fault(
            FaultRule::on(ApiKey::Produce)
                .every(5)
                .lose_response()
                .times(3),
        )
        .expect_no_loss(Expect::Holds)
        .expect_no_duplicates(Expect::Violated)
        .expect_all_delivered(Expect::Holds)
        .build()
        .expect("scenario");
    let run = live(&scenario, 3, &ktrial_driver());
    let why = explain(&run);
    assert_eq!(run.driver_failure, None, "{why}");
    // How many requests a run makes depends on timing; the first loss comes early in any.
    let lost = responses_lost(&run);
    assert!((1..=3).contains(&lost), "{lost} responses lost\n{why}");
    assert!(verdict(&run, "no_duplicates").violated, "{why}");
    assert!(!run.report.findings.duplicated.is_empty(), "{why}");
    assert!(!verdict(&run, "no_loss").violated, "{why}");
    assert_eq!(run.report.findings.acked, 300, "{why}");
    assert!(run.passed(), "{why}");
}

#[test]
fn a_lost_response_and_close_without_idempotence_duplicates_the_retried_record() {
    // Sync: one record per request, so the 5th Produce carries record 4 alone, is applied, its
    // answer never comes, and the retry on a new connection writes it again.
    let scenario = Scenario::builder("live-lost-response-and-close")
        .topic("payments", 1, 1)
        .producer("acks", "all")
        .producer("enable.idempotence", "false")
        .producer("max.in.flight.requests.per.connection", "1")
        .producer("retries", "5")
        .producer("request.timeout.ms", "1000")
        .producer("linger.ms", "0")
        .workload("payments", 100)
        .keys(10)
        .mode(SendMode::Sync)
        .fault(
            FaultRule::on(ApiKey::Produce)
                .nth(5)
                .lose_response_and_close()
                .once(),
        )
        .expect_no_loss(Expect::Holds)
        .expect_no_duplicates(Expect::Violated)
        .expect_ordered(Expect::Holds)
        .expect_all_delivered(Expect::Holds)
        .build()
        .expect("scenario");
    let run = live(&scenario, 3, &ktrial_driver());
    let why = explain(&run);
    assert_eq!(run.driver_failure, None, "{why}");
    assert_eq!(responses_lost(&run), 1, "{why}");
    assert_eq!(run.report.findings.duplicated, vec![4], "{why}");
    assert_eq!(run.report.findings.acked, 100, "{why}");
    assert!(run.passed(), "{why}");
}

#[test]
fn linger_and_send_mode_reach_the_client() {
    let base = |name: &str, linger: &str, mode: SendMode| {
        Scenario::builder(name)
            .topic("ticks", 3, 1)
            .producer("linger.ms", linger)
            .producer("batch.size", "1048576")
            .workload("ticks", 200)
            .keys(10)
            .mode(mode)
            .expect_all_delivered(Expect::Holds)
            .expect_batch_bounds(Expect::Holds)
    };
    // Paced over half a second: with linger.ms=500 a partition's records wait in one batch.
    let lingering = base("live-linger-500", "500", SendMode::Async)
        .rate(400.0)
        .build()
        .expect("scenario");
    let run = live(&lingering, 1, &ktrial_driver());
    let why = explain(&run);
    assert!(run.passed(), "{why}");
    for partition in 0..3 {
        let n = requests_for(&run, partition);
        assert!(
            (1..=3).contains(&n),
            "partition {partition}: {n} Produce requests\n{why}"
        );
    }
    assert!(run.report.wire.produce.len() <= 9, "{why}");

    // The same pace without linger: records leave as they come.
    let eager = base("live-linger-0", "0", SendMode::Async)
        .rate(400.0)
        .build()
        .expect("scenario");
    let run = live(&eager, 1, &ktrial_driver());
    let why = explain(&run);
    assert!(run.passed(), "{why}");
    assert!(run.report.wire.produce.len() >= 50, "{why}");

    // Sync: every record is its own request.
    let sync = base("live-linger-0-sync", "0", SendMode::Sync)
        .build()
        .expect("scenario");
    let run = live(&sync, 1, &ktrial_driver());
    let why = explain(&run);
    assert!(run.passed(), "{why}");
    assert!(run.report.wire.produce.len() >= 200, "{why}");
    assert!(
        run.report
            .wire
            .produce
            .iter()
            .flat_map(|r| &r.batches)
            .all(|b| b.records == 1),
        "sync sends one record at a time\n{why}"
    );
}

#[test]
fn an_after_acked_unclean_election_loses_acks_1_records_in_real_time() {
    // As fixtures/scenarios/acks1-unclean-election.toml: the followers never copy, so what the
    // leader acknowledged is cut when broker 2 is elected, uncleanly, after 100 acks.
    let scenario = Scenario::builder("live-acks1-unclean-election")
        .brokers(3)
        .topic("metrics", 1, 3)
        .min_insync_replicas(1)
        .producer("acks", "1")
        .producer("enable.idempotence", "false")
        .producer("linger.ms", "1")
        .workload("metrics", 400)
        .mode(SendMode::Async)
        .rate(2_000.0)
        .event_at(
            0,
            ClusterEvent::StallReplication {
                broker: 2,
                topic: None,
                partition: None,
                ms: 60_000,
            },
        )
        .event_at(
            0,
            ClusterEvent::StallReplication {
                broker: 3,
                topic: None,
                partition: None,
                ms: 60_000,
            },
        )
        .event_after_acked(
            100,
            ClusterEvent::ElectLeader {
                topic: "metrics".into(),
                partition: 0,
                unclean: true,
                leader: Some(2),
            },
        )
        .expect_no_loss(Expect::Violated)
        .build()
        .expect("scenario");
    let run = live(&scenario, 4, &ktrial_driver());
    let why = explain(&run);
    assert_eq!(run.driver_failure, None, "{why}");
    assert!(run.report.problems.is_empty(), "{why}");
    assert!(verdict(&run, "no_loss").violated, "{why}");
    let lost = &run.report.findings.lost;
    assert!(lost.len() >= 100, "{} lost\n{why}", lost.len());
    // What was lost was acknowledged before the election: the first records.
    assert!(lost.contains(&0), "{why}");
    let truncations: Vec<_> = run
        .report
        .journal
        .iter()
        .filter_map(|e| match &e.what {
            Happening::Cluster {
                notice: NoticeKind::Truncated { truncation, .. },
            } => Some(*truncation),
            _ => None,
        })
        .collect();
    assert_eq!(truncations.len(), 1, "{why}");
    assert!(truncations[0].records >= 100, "{:?}\n{why}", truncations[0]);
    assert!(
        run.report.journal.iter().any(|e| matches!(
            &e.what,
            Happening::Cluster {
                notice: NoticeKind::Election {
                    leader: 2,
                    unclean: true,
                    ..
                }
            }
        )),
        "{why}"
    );
    assert!(run.passed(), "{why}");
}

#[test]
fn a_broker_crash_and_restart_loses_nothing_with_acks_all_and_idempotence() {
    let scenario = Scenario::builder("live-crash-restart")
        .brokers(3)
        .topic("orders", 3, 3)
        .producer("acks", "all")
        .producer("enable.idempotence", "true")
        .producer("request.timeout.ms", "1000")
        .workload("orders", 1_500)
        .keys(10)
        .mode(SendMode::Async)
        .rate(1_000.0)
        .network(NetworkFault::Crash {
            broker: 1,
            at_ms: 300,
            restart_after_ms: Some(500),
        })
        .expect_no_loss(Expect::Holds)
        .expect_no_duplicates(Expect::Holds)
        .expect_all_delivered(Expect::Holds)
        .expect_acks_semantics(Expect::Holds)
        .build()
        .expect("scenario");
    let run = live(&scenario, 5, &ktrial_driver());
    let why = explain(&run);
    assert_eq!(run.driver_failure, None, "{why}");
    let f = &run.report.findings;
    assert_eq!((f.sent, f.acked, f.failed), (1_500, 1_500, 0), "{why}");
    assert!(f.lost.is_empty() && f.duplicated.is_empty(), "{why}");
    assert!(run.passed(), "{why}");
    // The crash happened, while records were being sent, and the broker came back.
    let at = |wanted: &ClusterEvent| {
        run.report.journal.iter().find_map(|e| match &e.what {
            Happening::Cluster {
                notice: NoticeKind::Event(event),
            } if event == wanted => Some(e.at_ms),
            _ => None,
        })
    };
    let down =
        at(&ClusterEvent::BrokerDown { broker: 1 }).unwrap_or_else(|| panic!("no crash\n{why}"));
    let up =
        at(&ClusterEvent::BrokerUp { broker: 1 }).unwrap_or_else(|| panic!("no restart\n{why}"));
    assert!((300..1_000).contains(&down), "down at {down} ms");
    // The restart is scheduled at 300 + 500 ms of the cluster's clock, not 500 ms after the
    // crash fired (which may be late on a loaded machine).
    assert!(up >= 800 && up > down, "up at {up} ms, down at {down} ms");
    let last_produce = run.report.wire.produce.last().map_or(0, |r| r.at_ms);
    assert!(
        last_produce > down,
        "records were still being sent after the crash\n{why}"
    );
}

// ---------------------------------------------------------------------------------------------
// Drivers that break the contract: never a pass
// ---------------------------------------------------------------------------------------------

/// A small workload for the fake drivers, with a short delivery timeout (a budget of ~62 s).
fn small() -> Scenario {
    Scenario::builder("live-fake-driver")
        .topic("t", 1, 1)
        .producer("delivery.timeout.ms", "2000")
        .producer("request.timeout.ms", "1000")
        .producer("linger.ms", "0")
        .workload("t", 10)
        .expect_no_loss(Expect::Holds)
        .build()
        .expect("scenario")
}

fn failure_of(script: &str, args: &[&str]) -> (LiveRun, String) {
    let run = live(&small(), 1, &fake(script, args));
    assert!(!run.passed(), "{script} passed: {}", explain(&run));
    let failure = run
        .driver_failure
        .clone()
        .unwrap_or_else(|| panic!("{script}: no driver failure: {}", explain(&run)));
    assert!(
        failure.contains("fake"),
        "the failure names the driver: {failure}"
    );
    (run, failure)
}

#[test]
fn a_driver_that_crashes_fails_the_run_with_its_exit_status() {
    let (run, failure) = failure_of("crash.sh", &[]);
    assert!(failure.contains("exit status: 3"), "{failure}");
    assert!(failure.contains("before its final line"), "{failure}");
    assert!(
        failure.contains("fake driver: crashing"),
        "stderr is kept: {failure}"
    );
    // What it reported before crashing was still recorded.
    assert_eq!(run.report.findings.acked, 1);
}

#[test]
fn a_driver_that_prints_malformed_json_fails_naming_the_line() {
    let (_, failure) = failure_of("malformed.sh", &[]);
    assert!(failure.contains("line 2"), "{failure}");
    assert!(failure.contains("not a JSON report"), "{failure}");
}

#[test]
fn a_driver_that_reports_a_record_never_sent_fails() {
    let (_, failure) = failure_of("never-sent.sh", &[]);
    assert!(failure.contains("never sent"), "{failure}");
    assert!(failure.contains("line 2"), "{failure}");
}

#[test]
fn a_driver_that_reports_a_record_twice_fails() {
    let (run, failure) = failure_of("twice.sh", &[]);
    assert!(
        failure.contains("second report for the same record"),
        "{failure}"
    );
    assert!(failure.contains("record 3"), "{failure}");
    assert!(failure.contains("line 3"), "{failure}");
    assert_eq!(
        run.report.findings.acked, 1,
        "the first report counts, the second does not"
    );
}

#[test]
fn a_driver_that_refuses_a_property_fails_naming_it() {
    let (_, failure) = failure_of("refuse.sh", &[]);
    assert!(failure.contains("refused"), "{failure}");
    assert!(failure.contains("(property `linger.ms`)"), "{failure}");
    assert!(failure.contains("this client has no linger"), "{failure}");
}

#[test]
fn an_unknown_client_name_lists_the_known_clients() {
    let error = Driver::resolve("kafka-go", Path::new("/nonexistent")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("unknown client `kafka-go`"), "{text}");
    for client in CLIENTS {
        assert!(text.contains(client), "{client} missing from: {text}");
    }
}

#[test]
fn a_driver_that_hangs_is_killed_within_its_budget() {
    // delivery.timeout.ms 2000: the budget is 2 s + 60 s.
    let marker = unique_marker("hang");
    let started = Instant::now();
    let (_, failure) = failure_of("hang.sh", &[&marker]);
    let took = started.elapsed();
    assert!(failure.contains("did not finish within 62 s"), "{failure}");
    assert!(failure.contains("killed"), "{failure}");
    assert!(
        took >= Duration::from_secs(60),
        "killed after {took:?}, before its budget"
    );
    assert!(took < Duration::from_secs(80), "returned after {took:?}");
    assert_eq!(
        processes_with(&marker),
        Vec::<u32>::new(),
        "the hung driver is gone"
    );
}

/// A driver launched by a script that does not `exec` leaves a child holding its stdout and
/// stderr: killing the script alone must still end the run within the budget, and leave no
/// process behind.
#[test]
fn a_hung_driver_with_a_child_is_killed_within_its_budget() {
    let marker = unique_marker("hang-child");
    let driver = fake("hang-with-child.sh", &[&marker]);
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(run_live(&small(), 1, &driver).map(|run| run.driver_failure));
    });
    let outcome = rx.recv_timeout(Duration::from_secs(80));
    let left = processes_with(&marker);
    // Whatever the outcome, end the child this test started, by its id.
    for pid in &left {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
    }
    let failure = outcome
        .unwrap_or_else(|_| panic!("run_live did not return within 80 s (budget 62 s)"))
        .expect("the run starts")
        .expect("a driver failure");
    assert!(failure.contains("did not finish"), "{failure}");
    assert!(started.elapsed() < Duration::from_secs(80));
    assert_eq!(left, Vec::<u32>::new(), "the driver's child is gone");
}

/// The contract: reports only for ids below `sent`.
#[test]
fn a_driver_that_reports_beyond_what_it_sent_fails() {
    let (_, failure) = failure_of("beyond-sent.sh", &[]);
    assert!(failure.contains("record 7"), "{failure}");
}

// ---------------------------------------------------------------------------------------------
// `ktrial run --client` through the binary
// ---------------------------------------------------------------------------------------------

fn ktrial_run(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ktrial"))
        .current_dir(workspace())
        .args(args)
        .output()
        .expect("ktrial runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn ktrial_run_client_repeats_a_fixture_and_keeps_failing_runs() {
    let keep = temp_dir("keep");
    let keep_arg = keep.to_string_lossy().into_owned();
    let (status, stdout, stderr) = ktrial_run(&[
        "run",
        "--client",
        "ktrial",
        "fixtures/scenarios/flush.toml",
        "--repeat",
        "2",
        "--keep",
        &keep_arg,
    ]);
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    let row: Vec<&str> = stdout
        .lines()
        .find(|line| line.starts_with("flush "))
        .unwrap_or_else(|| panic!("no row for flush:\n{stdout}"))
        .split_whitespace()
        .collect();
    assert_eq!(&row[..4], ["flush", "ktrial", "2", "pass"], "{stdout}");
    assert!(row.contains(&"all_delivered=0/2"), "{stdout}");
    assert!(row.contains(&"batch_bounds=0/2"), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    assert_eq!(
        std::fs::read_dir(&keep).map(|d| d.count()).unwrap_or(0),
        0,
        "passing runs are not kept"
    );

    // A demonstration that nothing demonstrates: no fault, yet duplicates expected.
    let dir = temp_dir("scenario");
    let file = dir.join("no-duplicates-to-find.toml");
    std::fs::write(
        &file,
        r#"description = "expects duplicates where nothing can duplicate"

[cluster]
brokers = 1

[[cluster.topics]]
name = "quiet"
partitions = 1
replication = 1

[producer]
acks = "all"
"linger.ms" = 0

[workload]
topic = "quiet"
records = 50
mode = "sync"

[expect]
no_duplicates = "violated"
"#,
    )
    .expect("scenario file");
    let (status, stdout, stderr) = ktrial_run(&[
        "run",
        "--client",
        "ktrial",
        &file.to_string_lossy(),
        "--keep",
        &keep_arg,
    ]);
    assert!(!status.success(), "{stdout}\n{stderr}");
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("no_duplicates=0/1 (expected violated) FAIL"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    let kept = keep.join("no-duplicates-to-find-ktrial-0");
    for name in [
        "timeline.txt",
        "timeline.html",
        "journal.json",
        "report.json",
    ] {
        let path = kept.join(name);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", path.display()))
            .len();
        assert!(size > 0, "{} is empty", path.display());
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(kept.join("report.json")).expect("report"))
            .expect("report.json is JSON");
    assert_eq!(report["client"], "ktrial");
    assert_eq!(report["findings"]["acked"], 50);
    assert!(report["driver_failure"].is_null());
    let journal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(kept.join("journal.json")).expect("journal"))
            .expect("journal.json is JSON");
    assert!(journal.as_array().is_some_and(|a| !a.is_empty()));
    let _ = std::fs::remove_dir_all(&keep);
    let _ = std::fs::remove_dir_all(&dir);
}
