//! Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.

use ktrial_protocol::messages::{HeartbeatRequest, HeartbeatResponse, ResponseKind};

use super::{RequestContext, code};
use crate::groups::MemberRef;
use crate::shared::SharedCluster;

/// Handles a Heartbeat request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: &HeartbeatRequest,
) -> ResponseKind {
    let group_id = request.group_id.0.as_str();
    let member = MemberRef {
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.as_ref().map(|s| s.to_string()),
    };
    let now = cluster.now();
    let result = cluster.update(now, |c| {
        c.check_group_coordinator(ctx.broker, group_id)?;
        c.groups_mut()
            .heartbeat(group_id, request.generation_id, &member, now)
    });
    ResponseKind::Heartbeat(HeartbeatResponse::default().with_error_code(code(result.err())))
}
