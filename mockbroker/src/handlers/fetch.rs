//! Fetch for consumers: whole batches below the high watermark from each partition's leader,
//! within `partition_max_bytes` and the request's `max_bytes` (the first batch always, KIP-74).
//! When fewer than `min_bytes` are ready the answer waits up to `max_wait_ms` for more, as
//! Kafka's `DelayedFetch` does. No fetch sessions: `session_id` 0 tells the client to send
//! full requests (KIP-227).

use bytes::Bytes;
use ktrial_protocol::ResponseError;
use ktrial_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use ktrial_protocol::messages::{FetchRequest, FetchResponse, ResponseKind};
use tokio::time::Duration;

use super::{RequestContext, code};
use crate::model::Cluster;
use crate::shared::SharedCluster;

/// Handles a Fetch request.
pub async fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: &FetchRequest,
) -> ResponseKind {
    let start = cluster.now();
    let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
    let ready = |c: &mut Cluster, _| {
        let (response, bytes, errors) = read(c, ctx, request);
        (bytes >= min_bytes || errors).then_some(response)
    };
    let wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let response = match cluster.wait_until(start + wait, ready).await {
        Some(response) => response,
        None => cluster.read(cluster.now(), |c| read(c, ctx, request).0),
    };
    ResponseKind::Fetch(response)
}

/// The response as the log stands, its record bytes, and whether a partition failed.
fn read(c: &Cluster, ctx: &RequestContext, request: &FetchRequest) -> (FetchResponse, usize, bool) {
    let mut budget = usize::try_from(request.max_bytes).unwrap_or(0);
    let mut total = 0;
    let mut errors = false;
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let name = topic.topic.0.as_str();
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let max = usize::try_from(p.partition_max_bytes)
                        .unwrap_or(0)
                        .min(budget);
                    let data = PartitionData::default().with_partition_index(p.partition);
                    match c.fetch(
                        ctx.broker,
                        name,
                        p.partition,
                        p.current_leader_epoch,
                        p.fetch_offset,
                        max,
                        total == 0,
                    ) {
                        Ok(fetched) => {
                            total += fetched.records.len();
                            budget = budget.saturating_sub(fetched.records.len());
                            // Null when nothing was aborted (`KafkaApis` fetch path):
                            // transactions are not modelled.
                            data.with_aborted_transactions(None)
                                .with_high_watermark(fetched.high_watermark)
                                .with_last_stable_offset(fetched.high_watermark)
                                .with_log_start_offset(fetched.log_start_offset)
                                .with_records(Some(fetched.records))
                        }
                        Err(error) => {
                            errors = true;
                            // Partitions missing from the metadata are refused before the read
                            // and keep the generated default, an empty list; read errors
                            // (out of range, not leader) carry null (`KafkaApis.handleFetchRequest`).
                            let aborted =
                                (error == ResponseError::UnknownTopicOrPartition).then(Vec::new);
                            data.with_error_code(code(Some(error)))
                                .with_aborted_transactions(aborted)
                                .with_high_watermark(-1)
                                .with_records(Some(Bytes::new()))
                        }
                    }
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_topic_id(topic.topic_id)
                .with_partitions(partitions)
        })
        .collect();
    (
        FetchResponse::default().with_responses(topics),
        total,
        errors,
    )
}
