//! Produce on the leader: request checks, batch validation, the idempotence check, the append,
//! and the acks=all wait for the high watermark. The order of checks follows Kafka:
//! `ProduceRequest.validateRecords` (one magic-2 batch), then `Partition.appendRecordsToLeader`
//! (min ISR for acks=-1), then `UnifiedLog.analyzeAndValidateRecords` (size, then CRC), then the
//! producer state (`ProducerAppendInfo`); `DelayedProduce` completes acks=-1.

use bytes::Bytes;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::ProduceRequest;
use ktrial_protocol::records::RecordBatch;
use ktrial_protocol::{ProtocolError, ResponseError};
use tokio::time::Instant;

use super::cluster::{BrokerId, Cluster};
use super::config::TimestampType;
use super::producer_state::SequenceCheck;

/// Produce v7 is the first that may carry zstd batches.
const ZSTD_MIN_PRODUCE_VERSION: i16 = 7;

/// The answer for one partition, as the Produce response carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionResponse {
    /// The error, or `None` for success.
    pub error: Option<ResponseError>,
    /// A human-readable reason for errors.
    pub error_message: Option<String>,
    /// Offset of the batch's first record, or -1.
    pub base_offset: i64,
    /// The append time under LogAppendTime, or -1.
    pub log_append_time: i64,
    /// The partition's log start offset, or -1.
    pub log_start_offset: i64,
}

impl PartitionResponse {
    fn failed(error: ResponseError, message: impl Into<String>) -> Self {
        Self {
            error: Some(error),
            error_message: Some(message.into()),
            base_offset: -1,
            log_append_time: -1,
            log_start_offset: -1,
        }
    }
}

/// Where one partition of a Produce request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionProduce {
    /// Answered.
    Done(PartitionResponse),
    /// Appended with acks=-1; answered once the high watermark reaches `required_offset`.
    AwaitingReplicas {
        /// One past the batch's last offset.
        required_offset: i64,
        /// The leader epoch at append; a change means leadership moved.
        leader_epoch: i32,
        /// The answer to give on success.
        response: PartitionResponse,
    },
}

/// One partition's slot of a Produce request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceState {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Its state.
    pub state: PartitionProduce,
}

/// A Produce request after the leader applied it, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceOutcome {
    /// The partitions, in request order.
    pub partitions: Vec<PartitionProduceState>,
}

impl ProduceOutcome {
    /// Every partition is answered.
    pub fn is_complete(&self) -> bool {
        self.partitions
            .iter()
            .all(|p| matches!(p.state, PartitionProduce::Done(_)))
    }

    /// Some partition failed (acks=0 then closes the connection, `KafkaApis` L709-727).
    pub fn has_error(&self) -> bool {
        self.partitions
            .iter()
            .any(|p| matches!(&p.state, PartitionProduce::Done(r) if r.error.is_some()))
    }
}

impl Cluster {
    /// Applies a Produce request received by `broker` at API `version`.
    pub fn produce(
        &mut self,
        broker: BrokerId,
        version: i16,
        request: &ProduceRequest,
        now: Instant,
    ) -> ProduceOutcome {
        let mut partitions = Vec::new();
        for topic in &request.topic_data {
            let name = topic.name.0.as_str();
            for data in &topic.partition_data {
                let state = self
                    .produce_partition(
                        broker,
                        version,
                        request.acks,
                        name,
                        data.index,
                        data.records.as_ref(),
                        now,
                    )
                    .unwrap_or_else(|(error, message)| {
                        PartitionProduce::Done(PartitionResponse::failed(error, message))
                    });
                partitions.push(PartitionProduceState {
                    topic: name.to_string(),
                    partition: data.index,
                    state,
                });
            }
        }
        ProduceOutcome { partitions }
    }

    #[allow(clippy::too_many_arguments)]
    fn produce_partition(
        &mut self,
        broker: BrokerId,
        version: i16,
        acks: i16,
        topic_name: &str,
        index: i32,
        records: Option<&Bytes>,
        now: Instant,
    ) -> Result<PartitionProduce, (ResponseError, String)> {
        if !matches!(acks, -1..=1) {
            return Err((ResponseError::InvalidRequiredAcks, format!("acks={acks}")));
        }
        let records = records
            .filter(|r| !r.is_empty())
            .ok_or((ResponseError::InvalidRecord, "no record batch".to_string()))?;
        let wall_ms = self.clock.millis(now);
        let max_uncompressed = self.config.max_uncompressed_batch_bytes;
        // Produce never creates topics; only Metadata does (`KafkaApis.handleProduceRequest`
        // answers UNKNOWN_TOPIC_OR_PARTITION for a topic not in the metadata cache).
        let topic = self.topics.get(topic_name).ok_or((
            ResponseError::UnknownTopicOrPartition,
            format!("unknown topic {topic_name}"),
        ))?;
        let min_isr = self.min_insync_replicas(topic);
        let max_bytes = topic
            .config
            .max_message_bytes
            .unwrap_or(self.config.message_max_bytes);
        let log_append_time =
            (topic.config.timestamp_type == TimestampType::LogAppendTime).then_some(wall_ms);
        let partition = topic.partition(index).ok_or((
            ResponseError::UnknownTopicOrPartition,
            format!("{topic_name} has no partition {index}"),
        ))?;
        if partition.leader() != broker {
            return Err((
                ResponseError::NotLeaderOrFollower,
                format!("broker {broker} does not lead {topic_name}-{index}"),
            ));
        }
        if acks == -1 && partition.isr().len() < min_isr {
            return Err((
                ResponseError::NotEnoughReplicas,
                format!(
                    "ISR {:?} is below min.insync.replicas={min_isr}",
                    partition.isr()
                ),
            ));
        }
        if records.len() > max_bytes {
            return Err((
                ResponseError::MessageTooLarge,
                format!("batch of {} bytes exceeds {max_bytes}", records.len()),
            ));
        }
        let batch = RecordBatch::parse(records).map_err(|e| (batch_error(&e), e.to_string()))?;
        let compression = batch
            .header()
            .compression()
            .map_err(|e| (batch_error(&e), e.to_string()))?;
        if compression == Compression::Zstd && version < ZSTD_MIN_PRODUCE_VERSION {
            return Err((
                ResponseError::UnsupportedCompressionType,
                format!("zstd needs Produce v7+, got v{version}"),
            ));
        }
        batch
            .validate_records(max_uncompressed)
            .map_err(|e| (batch_error(&e), e.to_string()))?;
        let header = *batch.header();
        let check = match partition.producers.check(&header) {
            Ok(check) => check,
            Err(error) => {
                // Producer-state errors carry the log start offset (`ReplicaManager
                // .appendToLocalLog`, `unknownLogAppendInfoWithLogStartOffset`).
                let mut response = PartitionResponse::failed(
                    error,
                    format!(
                        "producer {} sequence {}",
                        header.producer_id, header.base_sequence
                    ),
                );
                response.log_start_offset = partition.log().log_start_offset();
                return Ok(PartitionProduce::Done(response));
            }
        };
        let leader_epoch = partition.leader_epoch();
        let (response, last_offset) = match check {
            SequenceCheck::Duplicate(original) => (
                PartitionResponse {
                    error: None,
                    error_message: None,
                    base_offset: original.first_offset,
                    // Kafka answers a duplicate with the cached batch's timestamp here, even
                    // under CreateTime (`UnifiedLog.append`: `setLogAppendTime(duplicate.timestamp)`).
                    log_append_time: original.max_timestamp,
                    log_start_offset: partition.log().log_start_offset(),
                },
                original.first_offset + i64::from(header.last_offset_delta),
            ),
            SequenceCheck::Append => {
                let partition = self
                    .topics
                    .get_mut(topic_name)
                    .and_then(|t| t.partition_mut(index))
                    .ok_or((
                        ResponseError::UnknownTopicOrPartition,
                        topic_name.to_string(),
                    ))?;
                let stored = partition
                    .log
                    .append(&batch, leader_epoch, log_append_time, now)
                    .map_err(|e| (ResponseError::CorruptMessage, e.to_string()))?;
                let (base_offset, last_offset) = (stored.base_offset, stored.last_offset);
                let append_time = log_append_time.unwrap_or(-1);
                partition
                    .producers
                    .record(&header, base_offset, stored.max_timestamp);
                let response = PartitionResponse {
                    error: None,
                    error_message: None,
                    base_offset,
                    log_append_time: append_time,
                    log_start_offset: partition.log.log_start_offset(),
                };
                self.tick_partition(topic_name, index, now);
                (response, last_offset)
            }
        };
        Ok(if acks == -1 {
            PartitionProduce::AwaitingReplicas {
                required_offset: last_offset + 1,
                leader_epoch,
                response,
            }
        } else {
            PartitionProduce::Done(response)
        })
    }

    /// Answers the acks=-1 partitions whose wait is over: the high watermark reached their batch
    /// (NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min), leadership
    /// moved (NOT_LEADER_OR_FOLLOWER), or `timed_out` (REQUEST_TIMED_OUT). Call [`Cluster::tick`]
    /// first so that replication is current.
    pub fn complete_produce(
        &self,
        broker: BrokerId,
        outcome: &mut ProduceOutcome,
        timed_out: bool,
    ) {
        for slot in &mut outcome.partitions {
            let PartitionProduce::AwaitingReplicas {
                required_offset,
                leader_epoch,
                response,
            } = &slot.state
            else {
                continue;
            };
            let topic = self.topics.get(&slot.topic);
            let partition = topic.and_then(|t| t.partition(slot.partition));
            let answer = match (topic, partition) {
                (Some(topic), Some(p))
                    if p.leader() == broker && p.leader_epoch() == *leader_epoch =>
                {
                    if p.high_watermark() >= *required_offset {
                        if p.isr().len() < self.min_insync_replicas(topic) {
                            Some(PartitionResponse::failed(
                                ResponseError::NotEnoughReplicasAfterAppend,
                                format!("ISR {:?} shrank below min.insync.replicas", p.isr()),
                            ))
                        } else {
                            Some(response.clone())
                        }
                    } else if timed_out {
                        Some(PartitionResponse::failed(
                            ResponseError::RequestTimedOut,
                            "the high watermark did not reach the batch in time",
                        ))
                    } else {
                        None
                    }
                }
                _ => Some(PartitionResponse::failed(
                    ResponseError::NotLeaderOrFollower,
                    "leadership moved while waiting for replicas",
                )),
            };
            if let Some(answer) = answer {
                slot.state = PartitionProduce::Done(answer);
            }
        }
    }
}

/// Kafka's code for a batch that fails validation: a bad CRC or an impossible batch length is
/// CORRUPT_MESSAGE (`CorruptRecordException`), anything else about the batch or its records
/// INVALID_RECORD (`InvalidRecordException`).
fn batch_error(error: &ProtocolError) -> ResponseError {
    match error {
        ProtocolError::BadCrc { .. }
        | ProtocolError::Compression { .. }
        | ProtocolError::UnsupportedCompression(_) => ResponseError::CorruptMessage,
        ProtocolError::Invalid { what, .. } if *what == "batch length" => {
            ResponseError::CorruptMessage
        }
        _ => ResponseError::InvalidRecord,
    }
}
