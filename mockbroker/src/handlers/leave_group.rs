//! LeaveGroup: one member before v3, a batch of members (by member id or `group.instance.id`)
//! from v3, each with its own error; the top-level error is the group's, or before v3 the
//! member's.

use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::leave_group_response::MemberResponse;
use ktrial_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse, ResponseKind};

use super::{RequestContext, code};
use crate::groups::MemberRef;
use crate::shared::SharedCluster;

/// LeaveGroup v3 takes a list of members.
const BATCHED_VERSION: i16 = 3;

/// Handles a LeaveGroup request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    version: i16,
    request: &LeaveGroupRequest,
) -> ResponseKind {
    let group_id = request.group_id.0.as_str();
    let members: Vec<MemberRef> = if version >= BATCHED_VERSION {
        request
            .members
            .iter()
            .map(|m| MemberRef {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|s| s.to_string()),
            })
            .collect()
    } else {
        vec![MemberRef {
            member_id: request.member_id.to_string(),
            group_instance_id: None,
        }]
    };
    let now = cluster.now();
    let result = cluster.update(now, |c| {
        c.check_group_coordinator(ctx.broker, group_id)?;
        c.groups_mut().leave(group_id, &members, now)
    });
    let response = match result {
        Err(error) => LeaveGroupResponse::default().with_error_code(code(Some(error))),
        Ok(results) if version < BATCHED_VERSION => LeaveGroupResponse::default()
            .with_error_code(code(results.into_iter().next().and_then(Result::err))),
        Ok(results) => LeaveGroupResponse::default().with_members(
            members
                .into_iter()
                .zip(results)
                .map(|(m, r)| {
                    MemberResponse::default()
                        .with_member_id(StrBytes::from_string(m.member_id))
                        .with_group_instance_id(m.group_instance_id.map(StrBytes::from_string))
                        .with_error_code(code(r.err()))
                })
                .collect(),
        ),
    };
    ResponseKind::LeaveGroup(response)
}
