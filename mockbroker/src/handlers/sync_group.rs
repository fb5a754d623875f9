//! SyncGroup: the leader hands in every member's assignment; a follower's answer waits until
//! it does (or until the group rebalances again). v5+ carries the protocol type and name, which
//! must match the group's.

use ktrial_protocol::ResponseError;
use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::{ResponseKind, SyncGroupRequest, SyncGroupResponse};

use super::join_group::{collect, longest_rebalance};
use super::{RequestContext, code};
use crate::groups::{GroupCoordinator, Pending, SyncRequest, SyncResult};
use crate::shared::SharedCluster;

/// Handles a SyncGroup request.
pub async fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: &SyncGroupRequest,
) -> ResponseKind {
    let sync = SyncRequest {
        group_id: request.group_id.0.to_string(),
        generation_id: request.generation_id,
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.as_ref().map(|s| s.to_string()),
        protocol_type: request.protocol_type.as_ref().map(|s| s.to_string()),
        protocol_name: request.protocol_name.as_ref().map(|s| s.to_string()),
        assignments: request
            .assignments
            .iter()
            .map(|a| (a.member_id.to_string(), a.assignment.clone()))
            .collect(),
    };
    let now = cluster.now();
    let (pending, bound) = cluster.update(now, |c| {
        if let Err(e) = c.check_group_coordinator(ctx.broker, &sync.group_id) {
            return (Pending::Ready(SyncResult::error(e)), now);
        }
        let groups = c.groups_mut();
        let pending = groups.sync(&sync, now);
        (pending, now + longest_rebalance(groups, &sync.group_id))
    });
    let result = match pending {
        Pending::Ready(result) => result,
        Pending::Wait(ticket) => collect(cluster, ticket, bound, GroupCoordinator::take_sync)
            .await
            .unwrap_or_else(|| SyncResult::error(ResponseError::RebalanceInProgress)),
    };
    ResponseKind::SyncGroup(
        SyncGroupResponse::default()
            .with_error_code(code(result.error))
            .with_protocol_type(result.protocol_type.map(StrBytes::from_string))
            .with_protocol_name(result.protocol_name.map(StrBytes::from_string))
            .with_assignment(result.assignment),
    )
}
