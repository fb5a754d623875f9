//! One run of a scenario against a real client: the scenario's cluster and fault plan on
//! loopback TCP and the real clock, the client's driver producing the workload, and the same
//! checkers as in simulation over its delivery reports, the final logs and the Produce requests
//! the brokers received. Real time is not deterministic: two runs may differ, which is why
//! `--repeat` reports how many runs violated each property.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ktrial_mockbroker::{Clock, ClusterEvent, ScheduledEvent, SharedCluster};
use ktrial_producer::ProducerConfig;
use tokio::net::TcpListener;
use tokio::time::{Instant, timeout_at};

use super::driver::{Driver, DriverError, DriverInput, Report, Running};
use super::tap::{Link, Tap, TapBind};
use crate::check::{BatchBounds, LINGER_SLACK_MS, Observation, Outcome};
use crate::cluster::{ack_triggers, final_logs, scenario_cluster};
use crate::progress::Progress;
use crate::scenario::{NetworkFault, Scenario};
use crate::sim::{RunError, RunRecord, RunReport};

/// Most journal entries a run keeps.
const JOURNAL_CAPACITY: usize = 1_000_000;
/// Time the brokers keep running after the driver exits, for acks=0 requests still in flight.
const DRAIN: Duration = Duration::from_millis(200);
/// Time a driver has to exit after its last report.
const EXIT_GRACE: Duration = Duration::from_secs(20);
/// Slack of the linger check for a real client on the real clock: its sender's own ticks,
/// garbage collection and scheduling on a shared machine.
const LIVE_LINGER_SLACK_MS: i64 = 10 * LINGER_SLACK_MS;

/// The outcome of one run against a real client.
#[derive(Debug)]
pub struct LiveRun {
    /// The driver's name.
    pub client: String,
    /// The client and version the driver reported.
    pub client_version: String,
    /// Why the driver failed, when it did: the run is then a failure, whatever the checkers say.
    pub driver_failure: Option<String>,
    /// Why this client is expected to differ from `[expect]`, when its table says.
    pub expectation_reason: Option<String>,
    /// What the checkers found, the verdicts, the journal; `simulated_ms` is real milliseconds.
    pub report: RunReport,
}

impl LiveRun {
    /// Whether the driver ran to its end and every expectation is met.
    pub fn passed(&self) -> bool {
        self.driver_failure.is_none() && self.report.passed()
    }
}

/// Runs `scenario` once against `driver`, seeding the cluster's fault probabilities with `seed`.
pub fn run_live(scenario: &Scenario, seed: u64, driver: &Driver) -> Result<LiveRun, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(format!("runtime: {e}")))?;
    runtime.block_on(run(scenario, seed, driver))
}

async fn run(scenario: &Scenario, seed: u64, driver: &Driver) -> Result<LiveRun, RunError> {
    let setup = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| RunError::Setup(format!("{what}: {e}"))
    };
    let start = Start::default();
    let clock = start.clock();
    let tap = Tap::new(clock.clone());
    let brokers = scenario.cluster.brokers as usize;
    let links: Vec<Link> = (0..brokers).map(|_| Link::default()).collect();
    let mut binders = Vec::with_capacity(brokers);
    for link in &links {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(setup("binding a broker"))?;
        let port = listener
            .local_addr()
            .map_err(setup("binding a broker"))?
            .port();
        let bind =
            TapBind::new(listener, tap.clone(), link.clone()).map_err(setup("binding a broker"))?;
        binders.push((bind, port));
    }
    let cluster = scenario_cluster(scenario, seed)
        .clock(clock.clone())
        .journal_capacity(JOURNAL_CAPACITY)
        .start_with_binders(binders)
        .map_err(|e| RunError::Setup(format!("cluster: {e}")))?;
    let network = tokio::spawn(network_faults(
        scenario.faults.network.clone(),
        clock.clone(),
        links,
        Arc::clone(cluster.model()),
    ));
    let mut progress = Progress::new(
        scenario.workload.records,
        ack_triggers(scenario),
        Arc::clone(cluster.model()),
    );
    let input = DriverInput::of(scenario, &driver.name, cluster.bootstrap_servers());
    let (client_version, driver_failure) =
        match drive(driver, &input, budget(scenario), &mut progress, &start).await {
            Ok(version) => (version, None),
            Err(e) => (String::new(), Some(e.to_string())),
        };
    network.abort();
    clock.sleep(DRAIN).await;

    let (sent, trigger_errors) = progress.finish(scenario.workload.keys);
    let (expect, reason) = scenario.expect.for_client(&driver.name);
    let report = RunRecord {
        scenario: scenario.name.clone(),
        seed,
        observation: Observation {
            sent,
            logs: final_logs(cluster.model(), &scenario.workload.topic),
        },
        wire: tap.log(),
        problems: trigger_errors,
        timeline: cluster.timeline(),
        journal: cluster.journal_since(0),
        simulated_ms: clock.elapsed_ms(),
        steps: 0,
    }
    .judge(&given_bounds(&input.properties, start.epoch_ms()), &expect);
    cluster.shutdown().await;
    Ok(LiveRun {
        client: driver.name.clone(),
        client_version,
        driver_failure,
        expectation_reason: reason.map(str::to_string),
        report,
    })
}

/// The cluster's clock in a live run: it stands at 0 ms until the driver's client is ready to
/// send (its `started` line, or its first line of any kind), so that `at_ms` and `after_ms` mean
/// the same time after the first record whatever the client's runtime takes to start (a JVM
/// takes half a second).
#[derive(Debug, Clone, Default)]
struct Start {
    /// The moment, and the machine's wall-clock milliseconds then.
    at: Arc<std::sync::OnceLock<(Instant, i64)>>,
}

impl Start {
    fn clock(&self) -> Clock {
        let at = Arc::clone(&self.at);
        Clock::from_fn(Arc::new(move || {
            at.get().map_or(Duration::ZERO, |(at, _)| at.elapsed())
        }))
    }

    /// The cluster's time starts now (once).
    fn now(&self) {
        let _ = self.at.set((Instant::now(), wall_clock_ms()));
    }

    /// The client's wall-clock milliseconds at the cluster's 0 ms: batches carry the client's
    /// timestamps.
    fn epoch_ms(&self) -> i64 {
        self.at.get().map_or_else(wall_clock_ms, |(_, wall)| *wall)
    }
}

/// Runs the driver to its end, recording each report; the client's version.
async fn drive(
    driver: &Driver,
    input: &DriverInput,
    budget: Duration,
    progress: &mut Progress,
    start: &Start,
) -> Result<String, DriverError> {
    let deadline = Instant::now() + budget;
    let mut running: Running = driver.start(input).await?;
    let mut version = String::new();
    loop {
        let next = match timeout_at(deadline, running.next()).await {
            Ok(next) => next?,
            Err(_) => return Err(running.kill(budget).await),
        };
        let Some(report) = next else { break };
        start.now();
        match report {
            Report::Acked {
                id,
                partition,
                offset,
                ..
            } => {
                if progress.reported(id) {
                    return Err(running.reported_twice(id));
                }
                progress.record(id, Outcome::Acked { partition, offset });
            }
            Report::Failed { id, error, .. } => {
                if progress.reported(id) {
                    return Err(running.reported_twice(id));
                }
                progress.record(id, Outcome::Failed(error));
            }
            Report::Done {
                sent,
                client_version,
            } => {
                // Only ids below `sent` were handed to the client.
                if let Some(id) = progress.reported_from(sent) {
                    return Err(running.bad_line(
                        &format!("sent {sent}"),
                        &format!(
                            "record {id} was reported, but the final line says {sent} were sent"
                        ),
                    ));
                }
                version = client_version;
            }
            Report::Event { .. } | Report::Fatal { .. } => {}
        }
    }
    running.finish(EXIT_GRACE).await?;
    Ok(version)
}

/// How long a driver may take: its sending at the workload's rate, then what its
/// `delivery.timeout.ms` allows (when not given, the longest client default: librdkafka's
/// 300 s), and a margin for its runtime to start and stop.
fn budget(scenario: &Scenario) -> Duration {
    let w = &scenario.workload;
    let sending = w
        .rate
        .map_or(0.0, |rate| w.records as f64 / rate.max(0.001));
    let delivery_ms = scenario
        .producer
        .get("delivery.timeout.ms")
        .and_then(|v| v.0.parse::<u64>().ok())
        .unwrap_or(300_000);
    Duration::from_secs_f64(sending) + Duration::from_millis(delivery_ms) + Duration::from_secs(60)
}

/// The batch bounds a real client is held to: only those of the `properties` its driver was
/// given (a client's defaults are its own), read with ktrial's property parser.
fn given_bounds(properties: &BTreeMap<String, String>, epoch_ms: i64) -> BatchBounds {
    let given = |key: &str| properties.contains_key(key);
    let parsed: BTreeMap<String, String> = properties
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain([(
            "bootstrap.servers".to_string(),
            "localhost:9092".to_string(),
        )])
        .collect();
    let all = ProducerConfig::from_properties(&parsed)
        .ok()
        .map(|config| BatchBounds::of(&config));
    let bound = |key: &str, value: fn(&BatchBounds) -> Option<usize>| {
        all.as_ref().filter(|_| given(key)).and_then(value)
    };
    BatchBounds {
        linger_ms: all
            .as_ref()
            .filter(|_| given("linger.ms"))
            .and_then(|b| b.linger_ms),
        batch_size: bound("batch.size", |b| b.batch_size),
        batch_num_messages: bound("batch.num.messages", |b| b.batch_num_messages),
        max_request_size: bound("max.request.size", |b| b.max_request_size),
        max_in_flight: all.as_ref().map_or(5, |b| b.max_in_flight),
        acks_all: properties
            .get("acks")
            .is_some_and(|a| a == "all" || a == "-1"),
        epoch_ms,
        slack_ms: LIVE_LINGER_SLACK_MS,
    }
}

/// Applies the scenario's network faults on the real clock: stalls of a broker's connections,
/// crashes as the broker going down (and up), latency each way (the client's bytes in the tap,
/// the broker's answers as a latency event).
async fn network_faults(
    faults: Vec<NetworkFault>,
    clock: Clock,
    links: Vec<Link>,
    cluster: Arc<SharedCluster>,
) {
    let mut timed: Vec<(u64, NetworkStep)> = Vec::new();
    for fault in faults {
        match fault {
            NetworkFault::Partition {
                broker,
                at_ms,
                duration_ms,
            }
            | NetworkFault::Hold {
                broker,
                at_ms,
                duration_ms,
            } => timed.push((at_ms, NetworkStep::Stall(broker, at_ms + duration_ms))),
            NetworkFault::Latency { broker, ms } => {
                timed.push((0, NetworkStep::Latency(broker, ms)));
                timed.push((0, NetworkStep::Event(ClusterEvent::Latency { broker, ms })));
            }
            NetworkFault::Crash {
                broker,
                at_ms,
                restart_after_ms,
            } => {
                timed.push((
                    at_ms,
                    NetworkStep::Event(ClusterEvent::BrokerDown { broker }),
                ));
                if let Some(after) = restart_after_ms {
                    timed.push((
                        at_ms + after,
                        NetworkStep::Event(ClusterEvent::BrokerUp { broker }),
                    ));
                }
            }
        }
    }
    timed.sort_by_key(|(at, _)| *at);
    for (at_ms, step) in timed {
        // The clock stands still until the client starts: sleep again until it reads `at_ms`.
        while clock.elapsed_ms() < at_ms {
            let left = at_ms - clock.elapsed_ms();
            clock.sleep(Duration::from_millis(left.max(1))).await;
        }
        match step {
            NetworkStep::Stall(broker, until_ms) => {
                if let Some(link) = link_of(&links, broker) {
                    link.stall_until(until_ms);
                }
            }
            NetworkStep::Latency(broker, ms) => {
                if let Some(link) = link_of(&links, broker) {
                    link.set_latency(ms);
                }
            }
            NetworkStep::Event(event) => {
                if let Err(e) = cluster.apply_event(ScheduledEvent { at_ms: None, event }) {
                    tracing::warn!("network fault at {at_ms} ms: {e}");
                }
            }
        }
    }
}

enum NetworkStep {
    Stall(i32, u64),
    Latency(i32, u64),
    Event(ClusterEvent),
}

fn link_of(links: &[Link], broker: i32) -> Option<&Link> {
    usize::try_from(broker - 1).ok().and_then(|i| links.get(i))
}

/// Milliseconds since the Unix epoch on this machine's clock, which the clients stamp their
/// records with; read once per run, to place their batches on the cluster's clock.
fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A case runner for [`explore_with`](crate::explore::explore_with) against `driver`: each
/// candidate once while drawing, and while shrinking up to `tries` times, stopping at the first
/// run that breaks a property (one run that holds proves little in real time). A driver that
/// fails is the case's failure.
pub fn case_runner(
    driver: &Driver,
    tries: u32,
) -> impl Fn(&Scenario, u64, bool) -> Result<RunReport, RunError> + '_ {
    move |scenario, seed, shrinking| {
        let runs = if shrinking { tries.max(1) } else { 1 };
        let mut last = None;
        for _ in 0..runs {
            let run = run_live(scenario, seed, driver)?;
            if let Some(failure) = run.driver_failure {
                return Err(RunError::Driver(failure));
            }
            let broke = !run.report.verdicts.iter().all(|v| v.passed());
            last = Some(run.report);
            if broke {
                break;
            }
        }
        last.ok_or_else(|| RunError::Setup("no run".into()))
    }
}

/// `scenario` as `client` is judged: its `[expect]` with `[expect.<client>]` applied, keeping of
/// that table only what its driver is run without (for exploration, which judges every checked
/// property as one that must hold).
pub fn judged_for(scenario: &Scenario, client: &str) -> Scenario {
    let (mut expect, _) = scenario.expect.for_client(client);
    if let Some(differs) = scenario.expect.clients.get(client) {
        expect.clients.insert(
            client.to_string(),
            crate::scenario::ClientExpectations {
                reason: differs.reason.clone(),
                without: differs.without.clone(),
                ..Default::default()
            },
        );
    }
    Scenario {
        expect,
        ..scenario.clone()
    }
}
