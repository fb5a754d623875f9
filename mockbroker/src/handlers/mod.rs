//! One handler per API, and the dispatch stage every decoded request goes through.
//!
//! [`handle`] is the single place a request meets the cluster: it returns an [`Outcome`] (a
//! response, no response, or closing the connection) that the connection then carries out. Fault
//! injection and the journal hook in around this call.

pub mod api_versions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_fetch;
pub mod produce;
pub mod sync_group;

use ktrial_protocol::codec::Request;
use ktrial_protocol::messages::{ApiKey, RequestKind, ResponseKind};

use crate::model::BrokerId;
use crate::shared::SharedCluster;

/// Who a request came to: the broker and the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The broker that received the request.
    pub broker: BrokerId,
    /// A per-broker connection number, in accept order.
    pub connection: u64,
    /// The client's address, as the listener reported it.
    pub peer: String,
}

/// What the connection does after a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Send this response.
    Respond(Box<ResponseKind>),
    /// Send nothing (Produce with acks=0).
    NoResponse,
    /// Close the connection (Kafka's answer to a request it cannot accept).
    Close(String),
}

/// The versions this broker accepts for an API, or `None` for an API it does not serve.
pub fn accepted_versions(api_key: ApiKey) -> Option<(i16, i16)> {
    api_versions::SUPPORTED
        .iter()
        .find(|s| s.api_key == api_key)
        .map(|s| (s.accepted_min, s.max))
}

/// Handles one decoded request on `ctx.broker`.
pub async fn handle(cluster: &SharedCluster, ctx: &RequestContext, request: Request) -> Outcome {
    let version = request.version();
    match accepted_versions(request.api_key) {
        Some((min, max)) if (min..=max).contains(&version) => {}
        _ => {
            return Outcome::Close(format!(
                "{:?} v{version} is not served by this broker",
                request.api_key
            ));
        }
    }
    let respond = |body| Outcome::Respond(Box::new(body));
    match request.body {
        RequestKind::ApiVersions(_) => respond(api_versions::handle()),
        RequestKind::Metadata(body) => respond(metadata::handle(cluster, ctx, version, &body)),
        RequestKind::Produce(body) => produce::handle(cluster, ctx, version, &body).await,
        RequestKind::InitProducerId(body) => respond(init_producer_id::handle(cluster, &body)),
        RequestKind::ListOffsets(body) => {
            respond(list_offsets::handle(cluster, ctx, version, &body))
        }
        RequestKind::Fetch(body) => respond(fetch::handle(cluster, ctx, &body).await),
        RequestKind::FindCoordinator(body) => {
            respond(find_coordinator::handle(cluster, version, &body))
        }
        RequestKind::CreateTopics(body) => respond(create_topics::handle(cluster, version, &body)),
        RequestKind::DeleteTopics(body) => respond(delete_topics::handle(cluster, version, &body)),
        RequestKind::DescribeConfigs(body) => respond(describe_configs::handle(cluster, &body)),
        RequestKind::DescribeCluster(body) => respond(describe_cluster::handle(cluster, &body)),
        RequestKind::JoinGroup(body) => {
            respond(join_group::handle(cluster, ctx, &request.header, version, &body).await)
        }
        RequestKind::SyncGroup(body) => respond(sync_group::handle(cluster, ctx, &body).await),
        RequestKind::Heartbeat(body) => respond(heartbeat::handle(cluster, ctx, &body)),
        RequestKind::LeaveGroup(body) => respond(leave_group::handle(cluster, ctx, version, &body)),
        RequestKind::OffsetCommit(body) => respond(offset_commit::handle(cluster, ctx, &body)),
        RequestKind::OffsetFetch(body) => {
            respond(offset_fetch::handle(cluster, ctx, version, &body))
        }
        RequestKind::ListGroups(body) => respond(list_groups::handle(cluster, ctx, &body)),
        RequestKind::DescribeGroups(body) => {
            respond(describe_groups::handle(cluster, ctx, version, &body))
        }
        RequestKind::DeleteGroups(body) => respond(delete_groups::handle(cluster, ctx, &body)),
        other => Outcome::Close(format!("no handler for {other:?}")),
    }
}

/// A topic name from the wire as a message field.
pub(crate) fn topic_name(name: &str) -> ktrial_protocol::messages::TopicName {
    ktrial_protocol::messages::TopicName(ktrial_protocol::StrBytes::from_string(name.to_string()))
}

/// An error code from an optional error.
pub(crate) fn code(error: Option<ktrial_protocol::ResponseError>) -> i16 {
    error.map_or(0, |e| e.code())
}
