//! Compact one-line summaries of request and response bodies for the journal: topics and
//! partitions with record counts and base offsets for Produce, offsets and high watermarks for
//! Fetch, error codes by name, leaders for Metadata. In request order, never map order.

use core::fmt::Write;

use bytes::Bytes;
use ktrial_protocol::messages::{RequestKind, ResponseKind};
use ktrial_protocol::records::parse_batches;
use uuid::Uuid;

use crate::faults::ErrorCode;

/// A request body in one line.
pub fn request_summary(request: &RequestKind) -> String {
    let mut out = String::new();
    match request {
        RequestKind::Produce(body) => {
            let _ = write!(out, "acks={}", body.acks);
            for topic in &body.topic_data {
                for p in &topic.partition_data {
                    let counted = count(p.records.as_ref());
                    let _ = write!(
                        out,
                        " {}-{}:{} records/{} batches",
                        topic.name.0, p.index, counted.records, counted.batches
                    );
                    if let Some((id, sequence)) = counted.producer {
                        let _ = write!(out, " pid={id} seq={sequence}");
                    }
                }
            }
        }
        RequestKind::Fetch(body) => {
            for topic in &body.topics {
                let name = topic_label(topic.topic.0.as_str(), topic.topic_id);
                for p in &topic.partitions {
                    let _ = write!(out, " {name}-{}@{}", p.partition, p.fetch_offset);
                }
            }
        }
        RequestKind::ListOffsets(body) => {
            for topic in &body.topics {
                for p in &topic.partitions {
                    let _ = write!(
                        out,
                        " {}-{} ts={}",
                        topic.name.0, p.partition_index, p.timestamp
                    );
                }
            }
        }
        RequestKind::Metadata(body) => match &body.topics {
            None => out.push_str("all topics"),
            Some(topics) => {
                for t in topics {
                    match &t.name {
                        Some(name) => {
                            let _ = write!(out, " {}", name.0);
                        }
                        None => {
                            let _ = write!(out, " {}", t.topic_id);
                        }
                    }
                }
            }
        },
        _ => {}
    }
    out.trim_start().to_string()
}

/// A response body in one line.
pub fn response_summary(response: &ResponseKind) -> String {
    let mut out = String::new();
    match response {
        ResponseKind::Produce(body) => {
            for topic in &body.responses {
                for p in &topic.partition_responses {
                    let _ = write!(
                        out,
                        " {}-{} {} @{}",
                        topic.name.0,
                        p.index,
                        error_name(p.error_code),
                        p.base_offset
                    );
                }
            }
        }
        ResponseKind::Fetch(body) => {
            if body.error_code != 0 {
                let _ = write!(out, " {}", error_name(body.error_code));
            }
            for topic in &body.responses {
                let name = topic_label(topic.topic.0.as_str(), topic.topic_id);
                for p in &topic.partitions {
                    let counted = count(p.records.as_ref());
                    let _ = write!(
                        out,
                        " {name}-{} {} hw={} {} records/{} batches",
                        p.partition_index,
                        error_name(p.error_code),
                        p.high_watermark,
                        counted.records,
                        counted.batches
                    );
                }
            }
        }
        ResponseKind::ListOffsets(body) => {
            for topic in &body.topics {
                for p in &topic.partitions {
                    let _ = write!(
                        out,
                        " {}-{} {} offset={}",
                        topic.name.0,
                        p.partition_index,
                        error_name(p.error_code),
                        p.offset
                    );
                }
            }
        }
        ResponseKind::Metadata(body) => {
            let brokers: Vec<i32> = body.brokers.iter().map(|b| b.node_id.0).collect();
            let _ = write!(out, "brokers={brokers:?}");
            for topic in &body.topics {
                let name = topic.name.as_ref().map_or("?", |n| n.0.as_str());
                if topic.error_code != 0 {
                    let _ = write!(out, " {name} {}", error_name(topic.error_code));
                }
                for p in &topic.partitions {
                    let _ = write!(
                        out,
                        " {name}-{}:L{}e{}",
                        p.partition_index, p.leader_id.0, p.leader_epoch
                    );
                    if p.error_code != 0 {
                        let _ = write!(out, "({})", error_name(p.error_code));
                    }
                }
            }
        }
        ResponseKind::InitProducerId(body) => {
            let _ = write!(
                out,
                "{} pid={} epoch={}",
                error_name(body.error_code),
                body.producer_id.0,
                body.producer_epoch
            );
        }
        ResponseKind::ApiVersions(body) if body.error_code != 0 => {
            out.push_str(&error_name(body.error_code));
        }
        _ => {}
    }
    out.trim_start().to_string()
}

fn topic_label(name: &str, id: Uuid) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        name.to_string()
    }
}

fn error_name(code: i16) -> String {
    ErrorCode::from_code(code).map_or_else(|_| code.to_string(), ErrorCode::name)
}

/// What a Produce partition's records hold, read in one pass (each batch's CRC is checked
/// once): valid batches, their records, and the idempotent producer id and first sequence of the
/// first batch, if it has one.
struct Counted {
    batches: usize,
    records: i64,
    producer: Option<(i64, i32)>,
}

fn count(records: Option<&Bytes>) -> Counted {
    let mut counted = Counted {
        batches: 0,
        records: 0,
        producer: None,
    };
    for batch in records
        .map(|bytes| parse_batches(bytes.clone()).map_while(Result::ok))
        .into_iter()
        .flatten()
    {
        let header = batch.header();
        if counted.batches == 0 && header.producer_id >= 0 {
            counted.producer = Some((header.producer_id, header.base_sequence));
        }
        counted.batches += 1;
        counted.records += i64::from(header.records_count);
    }
    counted
}
