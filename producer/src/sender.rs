//! The sender: a thin async driver around the accumulator and the send book. One task; it keeps
//! metadata fresh, holds one connection per broker, drains one request per leader while the
//! connection has room (`max.in.flight.requests.per.connection`), and turns responses into
//! deliveries, retries (KIP-580 backoff) or failures (`Sender.java`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ktrial_protocol::ResponseError;
use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use ktrial_protocol::messages::produce_response::PartitionProduceResponse;
use ktrial_protocol::messages::{
    ApiKey, InitProducerIdRequest, ProduceRequest, ProduceResponse, RequestKind, ResponseKind,
    TopicName,
};
use ktrial_protocol::records::ProducerState;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::accumulator::{DrainPolicy, ProducerBatch};
use crate::backoff::Backoff;
use crate::config::{Acks, MetadataRecoveryStrategy};
use crate::connection::{self, ConnError, ConnEvent, ConnRequest, ConnectParams, Connection};
use crate::delivery::BatchAck;
use crate::error::ProducerError;
use crate::idempotence::{Identity, SendBook, SequenceVerdict};
use crate::metadata::ClusterMetadata;
use crate::shared::{Shared, TopicView};
use crate::stats::Stats;
use crate::transport::Transport;

/// Produce versions we speak: v3 is the first with RecordBatch v2; v10 adds the KIP-951 hints.
const PRODUCE_VERSIONS: (i16, i16) = (3, 10);
const METADATA_VERSIONS: (i16, i16) = (1, 12);
const INIT_PRODUCER_ID_VERSIONS: (i16, i16) = (0, 4);
/// Largest response frame accepted.
const MAX_RESPONSE_BYTES: usize = 100 * 1024 * 1024;
/// Bootstrap connections get negative ids, so they never collide with broker ids.
const BOOTSTRAP_BASE: i32 = -1;

struct Slot {
    conn: Connection,
    versions: Option<BTreeMap<i16, (i16, i16)>>,
    in_flight: usize,
}

enum InFlight {
    Produce {
        batches: Vec<ProducerBatch>,
        sent_at: Instant,
    },
    Metadata,
    InitProducerId,
}

pub(crate) struct Sender {
    shared: Arc<Shared>,
    transport: Arc<dyn Transport>,
    metadata: ClusterMetadata,
    book: SendBook,
    conns: BTreeMap<i32, Slot>,
    down_until: BTreeMap<i32, Instant>,
    events_tx: mpsc::UnboundedSender<ConnEvent>,
    events_rx: mpsc::UnboundedReceiver<ConnEvent>,
    in_flight: BTreeMap<u64, (i32, InFlight)>,
    next_tag: u64,
    metadata_in_flight: bool,
    metadata_stale: bool,
    metadata_retry_at: Option<Instant>,
    init_in_flight: bool,
    init_retry_at: Option<Instant>,
    backoff: Backoff,
    rng: ChaCha8Rng,
    client_id: Arc<str>,
}

/// The drain policy: leaders from the metadata, ordering and sequences from the book.
struct Policy<'a> {
    metadata: &'a ClusterMetadata,
    book: &'a mut SendBook,
}

impl DrainPolicy for Policy<'_> {
    fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.metadata.leader(topic, partition)
    }

    fn may_drain(&self, head: &ProducerBatch) -> bool {
        self.book
            .may_drain(&head.topic, head.partition, head.order, head.is_sealed())
    }

    fn stamp(&mut self, topic: &str, partition: i32, record_count: i32) -> ProducerState {
        self.book.stamp(&Arc::from(topic), partition, record_count)
    }
}

impl Sender {
    pub(crate) fn new(shared: Arc<Shared>, transport: Arc<dyn Transport>) -> Self {
        let config = &shared.config;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Self {
            book: SendBook::new(config.enable_idempotence, config.max_in_flight == 1),
            backoff: Backoff::new(config.retry_backoff, config.retry_backoff_max),
            rng: ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(1)),
            client_id: Arc::from(config.client_id.as_str()),
            transport,
            metadata: ClusterMetadata::default(),
            conns: BTreeMap::new(),
            down_until: BTreeMap::new(),
            events_tx,
            events_rx,
            in_flight: BTreeMap::new(),
            next_tag: 0,
            metadata_in_flight: false,
            metadata_stale: true,
            metadata_retry_at: None,
            init_in_flight: false,
            init_retry_at: None,
            shared,
        }
    }

    /// Runs until the producer is shut down and nothing is left to deliver.
    pub(crate) async fn run(mut self) {
        loop {
            let now = Instant::now();
            self.poll(now);
            if self.shared.is_shutdown() && self.shared.lock().acc.incomplete_batches() == 0 {
                debug!("sender stopping");
                return;
            }
            let deadline = self.next_deadline(now);
            tokio::select! {
                biased;
                Some(event) = self.events_rx.recv() => {
                    self.handle_event(event);
                    while let Ok(event) = self.events_rx.try_recv() {
                        self.handle_event(event);
                    }
                }
                () = self.shared.wake_sender.notified() => {}
                () = self.transport.sleep_until(deadline) => {}
            }
        }
    }

    fn next_deadline(&self, now: Instant) -> Instant {
        // A deadline already past means something waits on an event (a response, metadata, a
        // connection); look again after a short while in case none comes.
        let idle = now + Duration::from_millis(50);
        let mut deadline = idle;
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at
                && at > now
            {
                deadline = deadline.min(at);
            }
        };
        consider(self.shared.lock().acc.next_deadline());
        consider(self.metadata_retry_at);
        consider(self.init_retry_at);
        consider(self.next_in_flight_expiry());
        consider(
            self.metadata
                .updated()
                .map(|u| u + self.shared.config.metadata_max_age),
        );
        for &at in self.down_until.values() {
            consider(Some(at));
        }
        deadline
    }

    fn poll(&mut self, now: Instant) {
        self.expire_and_abort(now);
        self.expire_in_flight(now);
        self.maybe_request_metadata(now);
        self.maybe_init_producer_id(now);
        self.resolve_sequences();
        self.apply_sequence_resets();
        self.send_ready(now);
    }

    fn expire_and_abort(&mut self, now: Instant) {
        let (expired, aborted) = {
            let mut inner = self.shared.lock();
            let expired = inner.acc.expire(now);
            let aborted = if inner.abort {
                inner.acc.abort_all()
            } else {
                Vec::new()
            };
            (expired, aborted)
        };
        let timeout = self.shared.config.delivery_timeout;
        for batch in expired {
            self.fail(batch, ProducerError::DeliveryTimeout(timeout));
        }
        for batch in aborted {
            self.fail(batch, ProducerError::Closed);
        }
    }

    /// Fails batches whose request is still in flight once `delivery.timeout.ms` has passed
    /// (`Sender.java` `getExpiredInflightBatches`); the response later only frees them.
    fn expire_in_flight(&mut self, now: Instant) {
        let timeout = self.shared.config.delivery_timeout;
        let stats = &self.shared.stats;
        for (_, kind) in self.in_flight.values_mut() {
            let InFlight::Produce { batches, .. } = kind else {
                continue;
            };
            for batch in batches {
                if !batch.reported_timed_out && now >= batch.created + timeout {
                    batch.reported_timed_out = true;
                    self.book.expired(
                        &batch.topic,
                        batch.partition,
                        batch.producer,
                        batch.record_count,
                    );
                    self.book
                        .completed(&batch.topic, batch.partition, batch.order);
                    Stats::add(&stats.records_failed, batch.record_count as u64);
                    batch.report(Err(ProducerError::DeliveryTimeout(timeout)));
                }
            }
        }
    }

    /// When the next batch in flight reaches its delivery timeout.
    fn next_in_flight_expiry(&self) -> Option<Instant> {
        let timeout = self.shared.config.delivery_timeout;
        self.in_flight
            .values()
            .filter_map(|(_, kind)| match kind {
                InFlight::Produce { batches, .. } => Some(batches),
                _ => None,
            })
            .flatten()
            .filter(|b| !b.reported_timed_out)
            .map(|b| b.created + timeout)
            .min()
    }

    fn wanted_topics(&self) -> BTreeSet<String> {
        self.shared.lock().wanted.clone()
    }

    fn maybe_request_metadata(&mut self, now: Instant) {
        if self.metadata_in_flight || self.metadata_retry_at.is_some_and(|at| now < at) {
            return;
        }
        let wanted = self.wanted_topics();
        let missing = wanted.iter().any(|t| {
            self.metadata
                .topic(t)
                .is_none_or(|m| m.error.is_some() || m.partitions.is_empty())
        });
        let old = self
            .metadata
            .updated()
            .is_none_or(|u| now >= u + self.shared.config.metadata_max_age);
        if !(missing || old || self.metadata_stale) {
            return;
        }
        let Some(node) = self.metadata_node(now) else {
            return;
        };
        let Some(version) = self.version(node, ApiKey::Metadata, METADATA_VERSIONS) else {
            return;
        };
        let body = ClusterMetadata::request(&wanted, self.shared.config.allow_auto_create_topics);
        self.metadata_in_flight = true;
        self.metadata_stale = false;
        self.request(
            node,
            ApiKey::Metadata,
            version,
            RequestKind::Metadata(body),
            InFlight::Metadata,
        );
    }

    /// A node with a ready connection for a metadata request, connecting when none is ready.
    /// When every known broker is down, goes back to the bootstrap servers (KIP-899) if allowed.
    fn metadata_node(&mut self, now: Instant) -> Option<i32> {
        let ready = self
            .conns
            .iter()
            .filter(|(_, s)| s.versions.is_some())
            .min_by_key(|(_, s)| s.in_flight)
            .map(|(id, _)| *id);
        if ready.is_some() {
            return ready;
        }
        if self.conns.values().any(|s| s.versions.is_none()) {
            return None; // a connection is being set up
        }
        let known: Vec<i32> = self.metadata.broker_ids().collect();
        let up = |id: &i32| self.down_until.get(id).is_none_or(|&at| now >= at);
        if let Some(&id) = known.iter().find(|id| up(id)) {
            self.connect(id);
            return None;
        }
        let may_rebootstrap = known.is_empty()
            || self.shared.config.metadata_recovery == MetadataRecoveryStrategy::Rebootstrap;
        if !may_rebootstrap {
            return None;
        }
        if !known.is_empty() {
            debug!("every known broker is unreachable: rebootstrapping");
            self.metadata.forget_brokers();
        }
        let count = self.shared.config.bootstrap_servers.len() as i32;
        if let Some(id) = (0..count).map(|i| BOOTSTRAP_BASE - i).find(|id| up(id)) {
            self.connect(id);
        }
        None
    }

    fn connect(&mut self, node: i32) {
        if self.conns.contains_key(&node) {
            return;
        }
        let addr = if node <= BOOTSTRAP_BASE {
            let index = (BOOTSTRAP_BASE - node) as usize;
            self.shared.config.bootstrap_servers.get(index).cloned()
        } else {
            self.metadata.broker(node).map(str::to_string)
        };
        let Some(addr) = addr else { return };
        debug!(node, %addr, "connecting");
        let conn = connection::spawn(
            ConnectParams {
                node,
                addr,
                client_id: self.client_id.clone(),
                request_timeout: self.shared.config.request_timeout,
                max_frame_bytes: MAX_RESPONSE_BYTES,
            },
            self.transport.clone(),
            self.events_tx.clone(),
        );
        self.conns.insert(
            node,
            Slot {
                conn,
                versions: None,
                in_flight: 0,
            },
        );
    }

    fn version(&self, node: i32, api_key: ApiKey, ours: (i16, i16)) -> Option<i16> {
        let (min, max) = *self
            .conns
            .get(&node)?
            .versions
            .as_ref()?
            .get(&(api_key as i16))?;
        let version = max.min(ours.1);
        (version >= min.max(ours.0)).then_some(version)
    }

    fn request(
        &mut self,
        node: i32,
        api_key: ApiKey,
        version: i16,
        body: RequestKind,
        kind: InFlight,
    ) {
        let tag = self.next_tag;
        self.next_tag += 1;
        let expect_response = !matches!(
            (&kind, self.shared.config.acks),
            (InFlight::Produce { .. }, Acks::None)
        );
        let Some(slot) = self.conns.get_mut(&node) else {
            return;
        };
        slot.in_flight += 1;
        self.in_flight.insert(tag, (node, kind));
        let request = ConnRequest {
            tag,
            api_key,
            version,
            body,
            expect_response,
        };
        if let Err(e) = slot.conn.requests.send(request) {
            // The connection task is gone; its Closed event is on the way.
            let tag = e.0.tag;
            self.handle_response(
                node,
                tag,
                Err(ConnError::Io("connection task ended".into())),
            );
        }
    }

    fn maybe_init_producer_id(&mut self, now: Instant) {
        if self.book.identity() != Identity::Pending
            || self.init_in_flight
            || self.init_retry_at.is_some_and(|at| now < at)
        {
            return;
        }
        let Some(node) = self.metadata_node(now) else {
            return;
        };
        let Some(version) = self.version(node, ApiKey::InitProducerId, INIT_PRODUCER_ID_VERSIONS)
        else {
            return;
        };
        let body = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(i32::MAX)
            .with_producer_id((-1).into())
            .with_producer_epoch(-1);
        self.init_in_flight = true;
        self.request(
            node,
            ApiKey::InitProducerId,
            version,
            RequestKind::InitProducerId(body),
            InFlight::InitProducerId,
        );
    }

    /// Settles the sequences of batches that expired after being sent; bumps the epoch when
    /// one of them was never acknowledged.
    fn resolve_sequences(&mut self) {
        let bump = {
            let inner = self.shared.lock();
            self.book
                .resolve_sequences(|topic, partition| inner.acc.has_queued_retry(topic, partition))
        };
        if bump {
            self.bump_epoch();
        }
    }

    /// After an epoch bump, re-stamps the queued batches of each partition whose requests have
    /// all come back: new epoch, sequences from 0, in the order they were created.
    fn apply_sequence_resets(&mut self) {
        for (topic, partition) in self.book.pending_resets() {
            let mut inner = self.shared.lock();
            let sealed: Vec<&mut ProducerBatch> = inner
                .acc
                .queued_mut(&topic, partition)
                .filter(|b| b.is_sealed())
                .collect();
            let counts: Vec<i32> = sealed.iter().map(|b| b.record_count).collect();
            let Some(states) = self.book.take_reset(&topic, partition, &counts) else {
                continue;
            };
            for (batch, state) in sealed.into_iter().zip(states) {
                if let Err(e) = batch.restamp(state) {
                    warn!(%e, "cannot re-stamp a batch");
                }
            }
        }
    }

    fn send_ready(&mut self, now: Instant) {
        let leaders: BTreeSet<i32> = {
            let inner = self.shared.lock();
            inner
                .wanted
                .iter()
                .filter_map(|t| self.metadata.topic(t))
                .flat_map(|m| m.partitions.iter().flatten().map(|(leader, _)| *leader))
                .collect()
        };
        let max_in_flight = self.shared.config.max_in_flight;
        for node in leaders {
            if !self.conns.contains_key(&node) {
                if self.down_until.get(&node).is_none_or(|&at| now >= at) {
                    self.connect(node);
                }
                continue;
            }
            let Some(version) = self.version(node, ApiKey::Produce, PRODUCE_VERSIONS) else {
                continue;
            };
            while self
                .conns
                .get(&node)
                .is_some_and(|s| s.in_flight < max_in_flight)
            {
                let drained = {
                    let mut inner = self.shared.lock();
                    let mut policy = Policy {
                        metadata: &self.metadata,
                        book: &mut self.book,
                    };
                    inner.acc.drain(node, now, &mut policy)
                };
                let drained = match drained {
                    Ok(batches) if batches.is_empty() => break,
                    Ok(batches) => batches,
                    Err(e) => {
                        warn!(%e, "drain failed");
                        break;
                    }
                };
                let mut batches = Vec::with_capacity(drained.len());
                for mut batch in drained {
                    match batch.seal() {
                        Ok(()) => batches.push(batch),
                        Err(e) => self.fail(batch, e),
                    }
                }
                if !batches.is_empty() {
                    self.send_produce(node, version, batches, now);
                }
            }
        }
    }

    fn send_produce(&mut self, node: i32, version: i16, batches: Vec<ProducerBatch>, now: Instant) {
        let mut topics: Vec<TopicProduceData> = Vec::new();
        let stats = &self.shared.stats;
        for batch in &batches {
            let Some(bytes) = batch.bytes() else { continue };
            stats.batch_sent(batch.record_count, batch.uncompressed_bytes, bytes.len());
            if batch.attempts > 1 {
                Stats::add(&stats.records_retried, batch.record_count as u64);
            }
            self.book.sent(&batch.topic, batch.partition, batch.order);
            let data = PartitionProduceData::default()
                .with_index(batch.partition)
                .with_records(Some(bytes.clone()));
            match topics.last_mut() {
                Some(t) if t.name.0.as_str() == &*batch.topic => t.partition_data.push(data),
                _ => topics.push(
                    TopicProduceData::default()
                        .with_name(TopicName(StrBytes::from_string(batch.topic.to_string())))
                        .with_partition_data(vec![data]),
                ),
            }
        }
        let config = &self.shared.config;
        let body = ProduceRequest::default()
            .with_acks(config.acks.wire_value())
            .with_timeout_ms(i32::try_from(config.request_timeout.as_millis()).unwrap_or(i32::MAX))
            .with_topic_data(topics);
        Stats::add(&stats.requests_sent, 1);
        Stats::add(&stats.in_flight_requests, 1);
        self.request(
            node,
            ApiKey::Produce,
            version,
            RequestKind::Produce(body),
            InFlight::Produce {
                batches,
                sent_at: now,
            },
        );
    }

    fn handle_event(&mut self, event: ConnEvent) {
        match event {
            ConnEvent::Ready { node, versions } => {
                if let Some(slot) = self.conns.get_mut(&node) {
                    slot.versions = Some(versions);
                }
                self.down_until.remove(&node);
            }
            ConnEvent::Closed { node, error } => {
                debug!(node, %error, "connection closed");
                // A connection released on purpose (bootstrap) is already gone from `conns`.
                if self.conns.remove(&node).is_some() {
                    let backoff = self.backoff.delay(0, &mut self.rng);
                    self.down_until.insert(node, Instant::now() + backoff);
                    self.metadata_stale = true;
                }
            }
            ConnEvent::Response { node, tag, result } => self.handle_response(node, tag, result),
        }
    }

    fn handle_response(
        &mut self,
        node: i32,
        tag: u64,
        result: Result<Option<Box<ResponseKind>>, ConnError>,
    ) {
        let result = result.map(|body| body.map(|b| *b));
        let Some((_, kind)) = self.in_flight.remove(&tag) else {
            return;
        };
        if let Some(slot) = self.conns.get_mut(&node) {
            slot.in_flight = slot.in_flight.saturating_sub(1);
        }
        let now = Instant::now();
        match kind {
            InFlight::Metadata => {
                self.metadata_in_flight = false;
                match result {
                    Ok(Some(ResponseKind::Metadata(response))) => {
                        self.metadata.apply(&response, now);
                        self.release_bootstrap_connections();
                        self.publish_topics(now);
                    }
                    other => {
                        debug!(?other, "metadata request failed");
                        self.metadata_retry_at = Some(now + self.shared.config.retry_backoff);
                    }
                }
            }
            InFlight::InitProducerId => {
                self.init_in_flight = false;
                match result {
                    Ok(Some(ResponseKind::InitProducerId(r))) if r.error_code == 0 => {
                        debug!(
                            producer_id = r.producer_id.0,
                            epoch = r.producer_epoch,
                            "producer id"
                        );
                        self.book.set_identity(r.producer_id.0, r.producer_epoch);
                    }
                    other => {
                        debug!(?other, "InitProducerId failed");
                        self.init_retry_at = Some(now + self.shared.config.retry_backoff);
                    }
                }
            }
            InFlight::Produce { batches, sent_at } => {
                let stats = &self.shared.stats;
                stats
                    .in_flight_requests
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                match result {
                    Ok(None) => {
                        for batch in batches {
                            self.book.returned(&batch.topic, batch.partition);
                            self.succeed(batch, -1, -1);
                        }
                    }
                    Ok(Some(ResponseKind::Produce(response))) => {
                        stats.request_latency(now - sent_at);
                        self.handle_produce(batches, &response, now);
                    }
                    Ok(Some(_)) | Err(_) => {
                        let code = match &result {
                            Err(ConnError::Timeout(_)) => ResponseError::RequestTimedOut.code(),
                            _ => ResponseError::NetworkException.code(),
                        };
                        debug!(?result, "produce request failed");
                        self.metadata_stale = true;
                        for batch in batches {
                            self.book.returned(&batch.topic, batch.partition);
                            self.retry_or_fail(batch, code, false, now);
                        }
                    }
                }
            }
        }
    }

    /// Once the cluster's brokers are known, the bootstrap connections (duplicates of broker
    /// connections) are closed, keeping one connection per broker.
    fn release_bootstrap_connections(&mut self) {
        if self.metadata.broker_ids().next().is_none() {
            return;
        }
        self.conns
            .retain(|&node, slot| node > BOOTSTRAP_BASE || slot.in_flight > 0);
    }

    /// Publishes partition counts and errors of the wanted topics to `send`.
    fn publish_topics(&mut self, now: Instant) {
        let mut retry_soon = false;
        {
            let mut inner = self.shared.lock();
            let wanted: Vec<String> = inner.wanted.iter().cloned().collect();
            for topic in wanted {
                let Some(m) = self.metadata.topic(&topic) else {
                    continue;
                };
                let view = match m.error {
                    None if !m.partitions.is_empty() => TopicView::Known(m.partitions.len() as i32),
                    None => TopicView::Failed(ResponseError::LeaderNotAvailable),
                    Some(e) => TopicView::Failed(e),
                };
                if matches!(view, TopicView::Failed(e) if e.is_retriable())
                    || m.partitions.iter().any(Option::is_none)
                {
                    retry_soon = true;
                }
                inner.topics.insert(topic, view);
            }
        }
        if retry_soon {
            self.metadata_stale = true;
            self.metadata_retry_at = Some(now + self.shared.config.retry_backoff);
        }
        self.shared.metadata_updated.notify_waiters();
    }

    fn handle_produce(
        &mut self,
        batches: Vec<ProducerBatch>,
        response: &ProduceResponse,
        now: Instant,
    ) {
        let mut answers: BTreeMap<(&str, i32), &PartitionProduceResponse> = BTreeMap::new();
        for topic in &response.responses {
            for p in &topic.partition_responses {
                answers.insert((topic.name.0.as_str(), p.index), p);
            }
        }
        let mut hints = Vec::new();
        let mut outcomes = Vec::with_capacity(batches.len());
        for batch in batches {
            let answer = answers.get(&(&*batch.topic, batch.partition)).copied();
            let (code, base_offset, log_append_time) = match answer {
                Some(a) => {
                    if a.current_leader.leader_id.0 >= 0 {
                        hints.push((
                            batch.topic.clone(),
                            batch.partition,
                            a.current_leader.leader_id.0,
                            a.current_leader.leader_epoch,
                        ));
                    }
                    (a.error_code, a.base_offset, a.log_append_time_ms)
                }
                None => (ResponseError::NetworkException.code(), -1, -1),
            };
            outcomes.push((batch, answer.is_some(), code, base_offset, log_append_time));
        }
        for (topic, partition, leader, epoch) in hints {
            self.metadata.apply_leader_hint(
                &topic,
                partition,
                leader,
                epoch,
                &response.node_endpoints,
            );
        }
        for (batch, answered, code, base_offset, log_append_time) in outcomes {
            self.book.returned(&batch.topic, batch.partition);
            if code == 0 || code == ResponseError::DuplicateSequenceNumber.code() {
                self.book.acked(
                    &batch.topic,
                    batch.partition,
                    batch.producer,
                    batch.record_count,
                );
                self.succeed(batch, base_offset, log_append_time);
            } else if code == ResponseError::MessageTooLarge.code()
                && batch.record_count > 1
                && !batch.reported_timed_out
            {
                self.split(batch);
            } else {
                self.retry_or_fail(batch, code, answered, now);
            }
        }
    }

    /// Retries a failed batch or fails it for good (`Sender.completeBatch`, `canRetry`);
    /// `answered` when `code` is the broker's answer, not a connection failure.
    ///
    /// OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next expected one is retried as
    /// it is (`TransactionManager.canRetry`: `!isNextSequence` → retry). That includes the first
    /// batch of a partition failing with later batches in flight: the broker takes the next one
    /// as the producer's first (KIP-360, `ProducerAppendInfo.checkSequence` accepts any sequence
    /// from a producer it does not know), so the failed one can never be written under this
    /// epoch. Java keeps retrying it while the partition's fresh batches flow, and fails it at
    /// `delivery.timeout.ms`: with the broker's error and an epoch bump when an answer comes
    /// after the deadline (`canRetry` false → `failBatch` → `handleFailedBatch` bumps on
    /// OutOfOrderSequence), or with a timeout, its sequence unresolved, when it expires waiting
    /// for its retry (`Sender.sendProducerData`).
    fn retry_or_fail(&mut self, batch: ProducerBatch, code: i16, answered: bool, now: Instant) {
        let config = &self.shared.config;
        let error = ResponseError::try_from_code(code);
        let idempotent = self.book.identity() != Identity::Disabled;
        let verdict = match error {
            Some(ResponseError::OutOfOrderSequenceNumber) if idempotent => Some(
                self.book
                    .out_of_order(&batch.topic, batch.partition, batch.producer),
            ),
            Some(ResponseError::UnknownProducerId) if idempotent => {
                Some(SequenceVerdict::BumpAndRetry)
            }
            Some(e) if e.is_retriable() => Some(SequenceVerdict::RetryAsIs),
            _ => None,
        };
        let expired = now >= batch.created + config.delivery_timeout;
        let attempts_left = batch.attempts <= config.retries;
        let acks_zero = config.acks == Acks::None;
        match verdict {
            Some(verdict) if !expired && attempts_left && !acks_zero => {
                debug!(topic = %batch.topic, partition = batch.partition, code, "retrying batch");
                if verdict == SequenceVerdict::BumpAndRetry {
                    self.bump_epoch();
                }
                if matches!(
                    error,
                    Some(
                        ResponseError::UnknownTopicOrPartition
                            | ResponseError::LeaderNotAvailable
                            | ResponseError::NotLeaderOrFollower
                            | ResponseError::FencedLeaderEpoch
                            | ResponseError::UnknownLeaderEpoch
                            | ResponseError::NetworkException
                            | ResponseError::RequestTimedOut
                    )
                ) {
                    self.metadata_stale = true;
                }
                let delay = self
                    .backoff
                    .delay(batch.attempts.saturating_sub(1), &mut self.rng);
                self.shared.lock().acc.reenqueue(batch, now + delay);
            }
            _ => {
                // Past the deadline, Java reports the broker's answer (`failBatch` with
                // `error.exception()`); a batch already reported timed out stays so.
                let error = if expired && (!answered || batch.reported_timed_out) {
                    ProducerError::DeliveryTimeout(config.delivery_timeout)
                } else {
                    ProducerError::broker(code, batch.attempts)
                };
                self.fail(batch, error);
            }
        }
    }

    /// MESSAGE_TOO_LARGE for a batch of several records: split it and send the parts, without
    /// counting a retry (`Sender.completeBatch` L668-682); a single record fails alone.
    fn split(&mut self, batch: ProducerBatch) {
        debug!(topic = %batch.topic, partition = batch.partition, records = batch.record_count,
            "splitting a batch too large for the broker");
        // Java's `removeInFlightBatch`: the parts take its place in the send order.
        self.book
            .completed(&batch.topic, batch.partition, batch.order);
        let split = self.shared.lock().acc.split_and_reenqueue(&batch);
        match split {
            Ok(()) => Stats::add(&self.shared.stats.batches_split, 1),
            Err(e) => self.fail(batch, e),
        }
    }

    fn bump_epoch(&mut self) {
        debug!("bumping the producer epoch");
        Stats::add(&self.shared.stats.epoch_bumps, 1);
        self.book.bump_epoch();
    }

    fn succeed(&mut self, batch: ProducerBatch, base_offset: i64, log_append_time: i64) {
        if !batch.reported_timed_out {
            Stats::add(&self.shared.stats.records_acked, batch.record_count as u64);
        }
        self.finish(
            batch,
            Ok(BatchAck {
                base_offset,
                log_append_time,
            }),
        );
    }

    fn fail(&mut self, batch: ProducerBatch, error: ProducerError) {
        warn!(topic = %batch.topic, partition = batch.partition, %error, "batch failed");
        if !batch.reported_timed_out {
            Stats::add(&self.shared.stats.records_failed, batch.record_count as u64);
        }
        if matches!(error, ProducerError::DeliveryTimeout(_)) {
            // Sent or not, its fate is settled later (`resolve_sequences`).
            self.book.expired(
                &batch.topic,
                batch.partition,
                batch.producer,
                batch.record_count,
            );
        } else if batch.producer.base_sequence >= 0 {
            // Its sequences are a gap now; later batches would be out of order (KIP-360).
            self.bump_epoch();
        }
        self.finish(batch, Err(error));
    }

    fn finish(&mut self, batch: ProducerBatch, result: Result<BatchAck, ProducerError>) {
        self.book
            .completed(&batch.topic, batch.partition, batch.order);
        let waiters = {
            let mut inner = self.shared.lock();
            inner.acc.release(&batch);
            inner.acc.memory_waiters()
        };
        batch.report(result);
        if waiters > 0 {
            self.shared.space_freed.notify_waiters();
        }
    }
}
