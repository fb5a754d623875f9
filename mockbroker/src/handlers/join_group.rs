//! JoinGroup: the answer waits until the rebalance completes (Kafka's `DelayedJoin`), which
//! holds only this connection, as Kafka mutes a channel until its response is sent. Versions:
//! v4+ makes a new member rejoin with the id it is given (MEMBER_ID_REQUIRED, KIP-394); v5+
//! carries `group.instance.id`; v7+ names the protocol type; v9+ may tell a static leader to
//! skip the assignment. A v0 request has no rebalance timeout and uses the session timeout.

use std::net::SocketAddr;

use ktrial_protocol::messages::join_group_response::JoinGroupResponseMember;
use ktrial_protocol::messages::{JoinGroupRequest, JoinGroupResponse, RequestHeader, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};
use tokio::time::{Duration, Instant};

use super::{RequestContext, code};
use crate::groups::{GroupCoordinator, JoinRequest, JoinResult, Pending, Protocol, Ticket};
use crate::shared::SharedCluster;

/// JoinGroup v4 requires a known member id.
const MEMBER_ID_REQUIRED_VERSION: i16 = 4;
/// JoinGroup v7 made the protocol name nullable (earlier versions send "").
const NULLABLE_PROTOCOL_VERSION: i16 = 7;
/// JoinGroup v9 added `skip_assignment`.
const SKIP_ASSIGNMENT_VERSION: i16 = 9;
/// Slack on top of the longest a rebalance can take before a waiting answer gives up.
const WAIT_SLACK: Duration = Duration::from_secs(5);

/// Handles a JoinGroup request.
pub async fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    header: &RequestHeader,
    version: i16,
    request: &JoinGroupRequest,
) -> ResponseKind {
    let join = JoinRequest {
        group_id: request.group_id.0.to_string(),
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.as_ref().map(|s| s.to_string()),
        client_id: header
            .client_id
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        client_host: client_host(&ctx.peer),
        session_timeout_ms: request.session_timeout_ms,
        rebalance_timeout_ms: if version == 0 {
            request.session_timeout_ms
        } else {
            request.rebalance_timeout_ms
        },
        protocol_type: request.protocol_type.to_string(),
        protocols: request
            .protocols
            .iter()
            .map(|p| Protocol {
                name: p.name.to_string(),
                metadata: p.metadata.clone(),
            })
            .collect(),
        require_known_member_id: version >= MEMBER_ID_REQUIRED_VERSION,
        supports_skip_assignment: version >= SKIP_ASSIGNMENT_VERSION,
    };
    let now = cluster.now();
    let (pending, bound) = cluster.update(now, |c| {
        if let Err(e) = c.check_group_coordinator(ctx.broker, &join.group_id) {
            return (Pending::Ready(JoinResult::error(&join.member_id, e)), now);
        }
        let groups = c.groups_mut();
        let pending = groups.join(&join, now);
        (pending, now + longest_rebalance(groups, &join.group_id))
    });
    let result = match pending {
        Pending::Ready(result) => result,
        Pending::Wait(ticket) => collect(cluster, ticket, bound, GroupCoordinator::take_join)
            .await
            .unwrap_or_else(|| {
                JoinResult::error(&join.member_id, ResponseError::RebalanceInProgress)
            }),
    };
    ResponseKind::JoinGroup(response(version, result))
}

/// How long a rebalance of `group_id` can take at most: the initial delay, extended up to the
/// longest rebalance timeout, then that timeout again for the sync, with slack.
pub(crate) fn longest_rebalance(groups: &GroupCoordinator, group_id: &str) -> Duration {
    let rebalance = groups
        .group(group_id)
        .map(|g| g.rebalance_timeout())
        .unwrap_or_default();
    groups.config().initial_rebalance_delay + rebalance * 2 + WAIT_SLACK
}

/// Waits for the answer filed under `ticket` until `bound`; past it, gives the ticket up so
/// that nothing waits for this request any more.
pub(crate) async fn collect<T>(
    cluster: &SharedCluster,
    ticket: Ticket,
    bound: Instant,
    take: fn(&mut GroupCoordinator, Ticket) -> Option<T>,
) -> Option<T> {
    let answer = cluster
        .wait_until(bound, |c, _| take(c.groups_mut(), ticket))
        .await;
    if answer.is_none() {
        tracing::warn!(?ticket, "group answer not ready by its bound; giving up");
        let now = cluster.now();
        cluster.update(now, |c| c.groups_mut().cancel(ticket, now));
    }
    answer
}

/// Kafka reports a client's address as Java's `InetAddress.toString()`: `/127.0.0.1`.
fn client_host(peer: &str) -> String {
    match peer.parse::<SocketAddr>() {
        Ok(address) => format!("/{}", address.ip()),
        Err(_) => peer.to_string(),
    }
}

fn response(version: i16, result: JoinResult) -> JoinGroupResponse {
    let members = result
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(StrBytes::from_string(m.member_id))
                .with_group_instance_id(m.group_instance_id.map(StrBytes::from_string))
                .with_metadata(m.metadata)
        })
        .collect();
    let protocol_name = match result.protocol_name {
        None if version < NULLABLE_PROTOCOL_VERSION => Some(String::new()),
        name => name,
    };
    JoinGroupResponse::default()
        .with_error_code(code(result.error))
        .with_generation_id(result.generation_id)
        .with_protocol_type(result.protocol_type.map(StrBytes::from_string))
        .with_protocol_name(protocol_name.map(StrBytes::from_string))
        .with_leader(StrBytes::from_string(result.leader))
        .with_skip_assignment(result.skip_assignment)
        .with_member_id(StrBytes::from_string(result.member_id))
        .with_members(members)
}
