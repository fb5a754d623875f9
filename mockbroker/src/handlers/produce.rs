//! Produce: the leader applies the request through the model; acks=0 gets no response (and a
//! closed connection when a partition failed, `KafkaApis` L709-727), acks=1 an answer after the
//! append, acks=all an answer once the high watermark passes every batch or `timeout_ms` ends
//! (`DelayedProduce`). Errors for moved leaders carry the KIP-951 leader hint from v10.

use ktrial_protocol::ResponseError;
use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use ktrial_protocol::messages::{BrokerId, ProduceRequest, ProduceResponse, ResponseKind};
use tokio::time::Duration;

use super::{Outcome, RequestContext, code, topic_name};
use crate::model::{Cluster, PartitionProduce, ProduceOutcome};
use crate::shared::SharedCluster;

/// Produce v10 added the leader hint and node endpoints.
const LEADER_HINT_VERSION: i16 = 10;

/// Handles a Produce request.
pub async fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    version: i16,
    request: &ProduceRequest,
) -> Outcome {
    let broker = ctx.broker;
    let start = cluster.now();
    // acks=1 (and acks=all when nothing waits) is answered from the same lock as the append.
    let (mut outcome, answered) = cluster.update(start, |c| {
        let mut outcome = c.produce(broker, version, request, start);
        c.complete_produce(broker, &mut outcome, false);
        let answered =
            (request.acks != 0 && outcome.is_complete()).then(|| response(c, version, &outcome));
        (outcome, answered)
    });
    if let Some(response) = answered {
        return Outcome::Respond(Box::new(ResponseKind::Produce(response)));
    }
    if request.acks == 0 {
        return if outcome.has_error() {
            Outcome::Close(
                "acks=0 produce failed; closing so that the client refreshes metadata".into(),
            )
        } else {
            Outcome::NoResponse
        };
    }
    let timeout = Duration::from_millis(u64::try_from(request.timeout_ms).unwrap_or(0));
    let replicated = cluster
        .wait_until(start + timeout, |c, _| {
            c.complete_produce(broker, &mut outcome, false);
            outcome.is_complete().then_some(())
        })
        .await;
    if replicated.is_none() {
        cluster.read(cluster.now(), |c| {
            c.complete_produce(broker, &mut outcome, true)
        });
    }
    let response = cluster.read(cluster.now(), |c| response(c, version, &outcome));
    Outcome::Respond(Box::new(ResponseKind::Produce(response)))
}

/// Kafka sends a partition's `error_message` only for record-validation failures and null
/// otherwise (`LogAppendResult.errorMessage`, set from `RecordValidationException`).
fn has_custom_message(error: Option<ResponseError>) -> bool {
    matches!(
        error,
        Some(ResponseError::InvalidRecord | ResponseError::InvalidTimestamp)
    )
}

fn response(c: &Cluster, version: i16, outcome: &ProduceOutcome) -> ProduceResponse {
    let mut topics: Vec<TopicProduceResponse> = Vec::new();
    let mut hinted = false;
    for slot in &outcome.partitions {
        let PartitionProduce::Done(answer) = &slot.state else {
            continue;
        };
        let mut partition = PartitionProduceResponse::default()
            .with_index(slot.partition)
            .with_error_code(code(answer.error))
            .with_error_message(
                answer
                    .error_message
                    .clone()
                    .filter(|_| has_custom_message(answer.error))
                    .map(StrBytes::from_string),
            )
            .with_base_offset(answer.base_offset)
            .with_log_append_time_ms(answer.log_append_time)
            .with_log_start_offset(answer.log_start_offset);
        if answer.error == Some(ResponseError::NotLeaderOrFollower)
            && version >= LEADER_HINT_VERSION
            && let Some(p) = c.partition(&slot.topic, slot.partition)
        {
            hinted = true;
            partition = partition.with_current_leader(
                LeaderIdAndEpoch::default()
                    .with_leader_id(BrokerId(p.leader()))
                    .with_leader_epoch(p.leader_epoch()),
            );
        }
        match topics.iter_mut().find(|t| t.name.0.as_str() == slot.topic) {
            Some(topic) => topic.partition_responses.push(partition),
            None => topics.push(
                TopicProduceResponse::default()
                    .with_name(topic_name(&slot.topic))
                    .with_partition_responses(vec![partition]),
            ),
        }
    }
    let node_endpoints = if hinted {
        c.live_brokers()
            .map(|b| {
                NodeEndpoint::default()
                    .with_node_id(BrokerId(b.id))
                    .with_host(StrBytes::from_string(b.host.clone()))
                    .with_port(b.port)
            })
            .collect()
    } else {
        Vec::new()
    };
    ProduceResponse::default()
        .with_responses(topics)
        .with_node_endpoints(node_endpoints)
}
