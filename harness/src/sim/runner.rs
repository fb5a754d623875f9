//! Running one scenario in simulated time: every broker a turmoil host serving the shared
//! cluster model, the producer and its workload on a client host, one seed for the network, the
//! fault plan and the producer. The same scenario and seed give the same journal, byte for byte.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ktrial_mockbroker::{
    Bind, Clock, ClusterEvent, JournalEntry, ScheduledEvent, SharedCluster, run_broker,
};
use ktrial_producer::{Producer, ProducerConfig};
use ktrial_protocol::frame::FrameDecoder;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::SimListener;
use super::deadlines::Deadlines;
use super::jump::IdleJump;
use super::wire::RecordingTransport;
use super::workload::{self, ClientReport};
use crate::check::{
    BatchBounds, Findings, Observation, PropertyVerdict, check_batches, check_deliveries, judge,
};
use crate::cluster::{ack_triggers, final_logs, scenario_cluster};
use crate::scenario::{Expectations, NetworkFault, Scenario};
use crate::wire::WireLog;

/// Wall-clock milliseconds at simulated time zero (record timestamps, LogAppendTime).
pub const EPOCH_MS: i64 = 1_700_000_000_000;
/// The port every simulated broker listens on (`broker1:9092`, …).
pub const BROKER_PORT: u16 = 9092;
/// turmoil's step: hosts see each other's messages at this granularity.
const TICK: Duration = Duration::from_millis(1);
/// Simulated time after which a run that has not finished is a failure.
const SIMULATION_LIMIT: Duration = Duration::from_secs(3600);
/// Network latency between simulated hosts: drawn from the seed between these bounds.
const MIN_LATENCY: Duration = Duration::from_millis(1);
const MAX_LATENCY: Duration = Duration::from_millis(3);
/// Simulated time the brokers keep running after the client finishes.
const DRAIN_MS: u64 = 100;
/// Most journal entries a run keeps.
const JOURNAL_CAPACITY: usize = 1_000_000;

/// A scenario that could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The cluster or the producer refused the scenario's settings.
    #[error("{0}")]
    Setup(String),
    /// The simulation itself failed (a host panicked, or time ran out).
    #[error("simulation failed: {0}")]
    Simulation(String),
    /// A real client's driver failed (crashed, hung, broke the contract or refused the workload).
    #[error("driver failed: {0}")]
    Driver(String),
}

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// What the checkers found.
    pub findings: Findings,
    /// Each expectation against the findings.
    pub verdicts: Vec<PropertyVerdict>,
    /// Batches the producer sent (retries included).
    pub batches: u64,
    /// Produce requests the producer sent.
    pub requests: u64,
    /// Simulated time the run took, in milliseconds.
    pub simulated_ms: u64,
    /// turmoil steps taken (fewer than `simulated_ms` where idle time was jumped over).
    #[serde(skip)]
    pub steps: u64,
    /// SHA-256 of the journal's text timeline (first 16 hex digits).
    pub journal_hash: String,
    /// Problems outside the expectations (events that could not fire).
    pub problems: Vec<String>,
    /// The journal as a text timeline.
    #[serde(skip)]
    pub timeline: String,
    /// The journal's entries.
    #[serde(skip)]
    pub journal: Vec<JournalEntry>,
    /// What crossed the wire.
    #[serde(skip)]
    pub wire: WireLog,
}

impl RunReport {
    /// Whether every expectation is met and nothing else went wrong.
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.verdicts.iter().all(PropertyVerdict::passed)
    }
}

/// How a scenario is run; the journal does not depend on it.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Advance over idle simulated time in one step (see `sim::jump`); off, every millisecond
    /// is a step.
    pub idle_jump: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { idle_jump: true }
    }
}

/// Runs `scenario` with `seed` in simulated time.
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunReport, RunError> {
    run_with(scenario, seed, RunOptions::default())
}

/// Runs `scenario` with `seed` in simulated time, as `options` say.
///
/// ```
/// use ktrial_harness::{ApiKey, FaultRule, RunOptions, Scenario, run_with};
///
/// // A request timeout idled through: the same journal, in far fewer steps.
/// let scenario = Scenario::builder("timeout")
///     .topic("t", 1, 1)
///     .producer("request.timeout.ms", "2000")
///     .workload("t", 20)
///     .fault(FaultRule::on(ApiKey::Produce).nth(1).lose_response())
///     .build()?;
/// let stepped = run_with(&scenario, 1, RunOptions { idle_jump: false })?;
/// let jumped = run_with(&scenario, 1, RunOptions::default())?;
/// assert_eq!(stepped.journal_hash, jumped.journal_hash);
/// assert!(stepped.simulated_ms > 2000);
/// assert!(jumped.steps * 4 < stepped.steps);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_with(
    scenario: &Scenario,
    seed: u64,
    options: RunOptions,
) -> Result<RunReport, RunError> {
    let brokers = scenario.cluster.brokers as i32;
    let host = |broker: i32| format!("broker{broker}");
    let addresses: Vec<(String, u16)> = (1..=brokers).map(|b| (host(b), BROKER_PORT)).collect();

    let mut properties: BTreeMap<String, String> = scenario
        .producer
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    properties
        .entry("bootstrap.servers".into())
        .or_insert_with(|| {
            addresses
                .iter()
                .map(|(h, p)| format!("{h}:{p}"))
                .collect::<Vec<_>>()
                .join(",")
        });
    properties.insert("ktrial.seed".into(), seed.to_string());
    let config = ProducerConfig::from_properties(&properties)
        .map_err(|e| RunError::Setup(format!("producer: {e}")))?;

    let deadlines = Deadlines::simulated();
    let cluster_reads = Arc::new(AtomicU64::new(0));
    let clock = simulation_clock(&deadlines, Arc::clone(&cluster_reads));
    let cluster = scenario_cluster(scenario, seed)
        .clock(clock.clone())
        .wall_clock_ms(EPOCH_MS)
        .journal_capacity(JOURNAL_CAPACITY)
        .build_shared(&addresses)
        .map_err(|e| RunError::Setup(format!("cluster: {e}")))?;

    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .tick_duration(TICK)
        .simulation_duration(SIMULATION_LIMIT)
        .min_message_latency(MIN_LATENCY)
        .max_message_latency(MAX_LATENCY)
        .build();
    for broker in 1..=brokers {
        let cluster = Arc::clone(&cluster);
        sim.host(host(broker), move || {
            let cluster = Arc::clone(&cluster);
            async move {
                let (_running, stop) = watch::channel(false);
                run_broker(SimBind, broker, cluster, FrameDecoder::default(), stop).await;
                Ok(())
            }
        });
    }

    let transport = RecordingTransport::new(deadlines.clone());
    let client_report = Arc::new(std::sync::Mutex::new(None::<ClientReport>));
    {
        let transport = transport.clone();
        let report = Arc::clone(&client_report);
        let cluster = Arc::clone(&cluster);
        let workload = scenario.workload.clone();
        let triggers = ack_triggers(scenario);
        let close_timeout = config.delivery_timeout + config.request_timeout;
        let deadlines = deadlines.clone();
        sim.client("client", async move {
            let producer = properties
                .iter()
                .fold(Producer::builder(), |builder, (k, v)| builder.set(k, v))
                .transport(transport)
                .wall_clock(|| EPOCH_MS + sim_millis() as i64)
                .build()
                .await?;
            let outcome = workload::run(
                producer,
                &workload,
                triggers,
                cluster,
                close_timeout,
                &deadlines,
            )
            .await;
            *report
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(outcome);
            Ok(())
        });
    }

    let mut schedule = NetworkSchedule::new(&scenario.faults.network);
    let mut cluster_events: Vec<u64> = scenario
        .faults
        .events
        .iter()
        .filter_map(|e| e.at_ms)
        .collect();
    cluster_events.sort_unstable();
    let mut jump = IdleJump::new(options.idle_jump, deadlines, cluster_reads);
    let mut drain_until = None;
    let mut steps = 0;
    loop {
        let now_ms = sim_elapsed_ms(&sim);
        let due = schedule.due(now_ms);
        for action in &due {
            action.apply(&mut sim, &cluster)?;
        }
        let next_action_ms = [
            schedule.next_ms(),
            cluster_events.iter().copied().find(|&at| at > now_ms),
            drain_until,
            Some(SIMULATION_LIMIT.as_millis() as u64),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(u64::MAX);
        let step = jump.next_step(&sim, now_ms, !due.is_empty(), next_action_ms, TICK);
        let stepped = sim.step_for(step);
        jump.stepped();
        steps += 1;
        match stepped {
            // The client is done; let what is still on the wire arrive (acks=0 requests are
            // "delivered" once written) before the logs are read.
            Ok(true) => {
                let until = *drain_until.get_or_insert(sim_elapsed_ms(&sim) + DRAIN_MS);
                if sim_elapsed_ms(&sim) >= until {
                    break;
                }
            }
            Ok(false) => {}
            Err(e) => return Err(RunError::Simulation(e.to_string())),
        }
    }
    let simulated_ms = sim_elapsed_ms(&sim);
    drop(sim);

    let client = client_report
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
        .ok_or_else(|| RunError::Simulation("the client ended without a report".into()))?;
    Ok(RunRecord {
        scenario: scenario.name.clone(),
        seed,
        observation: Observation {
            sent: client.sent,
            logs: final_logs(&cluster, &scenario.workload.topic),
        },
        wire: transport.log(),
        problems: client.trigger_errors,
        timeline: cluster.timeline(),
        journal: cluster.journal_since(0),
        simulated_ms,
        steps,
    }
    .judge(&BatchBounds::of(&config), &scenario.expect))
}

/// What a run leaves for the checkers, from either runner (the simulation, or a real client's
/// in `live`).
pub(crate) struct RunRecord {
    pub scenario: String,
    pub seed: u64,
    pub observation: Observation,
    pub wire: WireLog,
    /// Problems outside the expectations so far (events that could not fire).
    pub problems: Vec<String>,
    pub timeline: String,
    pub journal: Vec<JournalEntry>,
    pub simulated_ms: u64,
    pub steps: u64,
}

impl RunRecord {
    /// Runs the checkers, with `bounds` for the batches, and judges the findings by `expect`.
    pub(crate) fn judge(self, bounds: &BatchBounds, expect: &Expectations) -> RunReport {
        let mut findings = check_deliveries(&self.observation);
        check_batches(bounds, &self.wire, &mut findings);
        let verdicts = judge(&findings, expect);
        let mut problems = self.problems;
        problems.extend(self.wire.undecodable.iter().cloned());
        RunReport {
            scenario: self.scenario,
            seed: self.seed,
            findings,
            verdicts,
            batches: self
                .wire
                .produce
                .iter()
                .map(|r| r.batches.len() as u64)
                .sum(),
            requests: self.wire.produce.len() as u64,
            simulated_ms: self.simulated_ms,
            steps: self.steps,
            journal_hash: hash(&self.timeline),
            problems,
            timeline: self.timeline,
            journal: self.journal,
            wire: self.wire,
        }
    }
}

/// The cluster's clock: simulated time, and outside the simulation the last time it saw (so
/// reading the final state after the run does not move the model back to zero). Its waits are
/// registered in `deadlines`; `reads` counts how often it is read.
fn simulation_clock(deadlines: &Deadlines, reads: Arc<AtomicU64>) -> Clock {
    let sleeper = deadlines.clone();
    let last_nanos = Arc::new(AtomicU64::new(0));
    Clock::from_fn(Arc::new(move || match turmoil::sim_elapsed() {
        Some(elapsed) => {
            reads.fetch_add(1, Ordering::Relaxed);
            last_nanos.store(elapsed.as_nanos() as u64, Ordering::Relaxed);
            elapsed
        }
        None => Duration::from_nanos(last_nanos.load(Ordering::Relaxed)),
    }))
    .with_sleeper(Arc::new(move |duration| Box::pin(sleeper.sleep(duration))))
}

fn sim_millis() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| d.as_millis() as u64)
}

fn sim_elapsed_ms(sim: &turmoil::Sim<'_>) -> u64 {
    sim.elapsed().as_millis() as u64
}

/// The first 16 hex digits of the SHA-256 of `text`: a journal's fingerprint.
pub(crate) fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A broker's listener on its simulated host, bound again after each restart.
struct SimBind;

impl Bind for SimBind {
    type Listener = SimListener;

    async fn bind(&mut self) -> io::Result<SimListener> {
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", BROKER_PORT)).await?;
        Ok(SimListener(listener))
    }
}

/// A network fault's effect at one moment.
#[derive(Debug, Clone)]
enum NetworkAction {
    Latency(i32, Duration),
    Partition(i32),
    Repair(i32),
    Hold(i32),
    Release(i32),
    Crash(i32),
    Restart(i32),
}

impl NetworkAction {
    fn apply(&self, sim: &mut turmoil::Sim<'_>, cluster: &SharedCluster) -> Result<(), RunError> {
        let host = |b: &i32| format!("broker{b}");
        let event = |event| {
            cluster
                .apply_event(ScheduledEvent { at_ms: None, event })
                .map_err(|e| RunError::Setup(format!("network fault: {e}")))
        };
        match self {
            NetworkAction::Latency(b, latency) => sim.set_link_latency("client", host(b), *latency),
            NetworkAction::Partition(b) => sim.partition("client", host(b)),
            NetworkAction::Repair(b) => sim.repair("client", host(b)),
            NetworkAction::Hold(b) => sim.hold("client", host(b)),
            NetworkAction::Release(b) => sim.release("client", host(b)),
            NetworkAction::Crash(b) => {
                sim.crash(host(b));
                event(ClusterEvent::BrokerDown { broker: *b })?;
            }
            NetworkAction::Restart(b) => {
                sim.bounce(host(b));
                event(ClusterEvent::BrokerUp { broker: *b })?;
            }
        }
        Ok(())
    }
}

/// Network actions sorted by simulated time.
struct NetworkSchedule {
    actions: Vec<(u64, NetworkAction)>,
}

impl NetworkSchedule {
    fn new(faults: &[NetworkFault]) -> Self {
        let mut actions = Vec::new();
        for fault in faults {
            match *fault {
                NetworkFault::Latency { broker, ms } => {
                    actions.push((0, NetworkAction::Latency(broker, Duration::from_millis(ms))));
                }
                NetworkFault::Partition {
                    broker,
                    at_ms,
                    duration_ms,
                } => {
                    actions.push((at_ms, NetworkAction::Partition(broker)));
                    actions.push((at_ms + duration_ms, NetworkAction::Repair(broker)));
                }
                NetworkFault::Hold {
                    broker,
                    at_ms,
                    duration_ms,
                } => {
                    actions.push((at_ms, NetworkAction::Hold(broker)));
                    actions.push((at_ms + duration_ms, NetworkAction::Release(broker)));
                }
                NetworkFault::Crash {
                    broker,
                    at_ms,
                    restart_after_ms,
                } => {
                    actions.push((at_ms, NetworkAction::Crash(broker)));
                    if let Some(after) = restart_after_ms {
                        actions.push((at_ms + after, NetworkAction::Restart(broker)));
                    }
                }
            }
        }
        // Stable: actions at the same time keep the order the scenario gave them.
        actions.sort_by_key(|(at, _)| *at);
        actions.reverse();
        Self { actions }
    }

    /// When the next action is due.
    fn next_ms(&self) -> Option<u64> {
        self.actions.last().map(|(at, _)| *at)
    }

    /// The actions due at `now_ms`, in order.
    fn due(&mut self, now_ms: u64) -> Vec<NetworkAction> {
        let mut due = Vec::new();
        while self.actions.last().is_some_and(|(at, _)| *at <= now_ms) {
            if let Some((_, action)) = self.actions.pop() {
                due.push(action);
            }
        }
        due
    }
}
