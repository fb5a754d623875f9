//! DescribeGroups: state, protocol and members of each group; member metadata and assignments
//! only for a stable group, as Kafka gives them. An unknown group reads as `Dead`, and from v6
//! also GROUP_ID_NOT_FOUND (KIP-1043).

use ktrial_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use ktrial_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};

use super::{RequestContext, code};
use crate::groups::GroupState;
use crate::shared::SharedCluster;

/// DescribeGroups v6 reports unknown groups with GROUP_ID_NOT_FOUND.
const NOT_FOUND_VERSION: i16 = 6;
/// `authorized_operations` when not asked for (`Integer.MIN_VALUE`).
const OPERATIONS_NOT_REQUESTED: i32 = i32::MIN;
/// Without an authorizer every group operation is allowed: READ (3), DELETE (6), DESCRIBE (8).
const ALL_GROUP_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8);

/// Handles a DescribeGroups request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    version: i16,
    request: &DescribeGroupsRequest,
) -> ResponseKind {
    let operations = if request.include_authorized_operations {
        ALL_GROUP_OPERATIONS
    } else {
        OPERATIONS_NOT_REQUESTED
    };
    let groups = cluster.read(cluster.now(), |c| {
        request
            .groups
            .iter()
            .map(|id| {
                let entry = DescribedGroup::default()
                    .with_group_id(id.clone())
                    .with_authorized_operations(operations);
                if let Err(e) = c.check_group_coordinator(ctx.broker, &id.0) {
                    return entry.with_error_code(code(Some(e)));
                }
                let Some(g) = c.groups().describe(&id.0) else {
                    let dead = entry
                        .with_group_state(StrBytes::from_static_str(GroupState::Dead.as_str()));
                    return if version >= NOT_FOUND_VERSION {
                        dead.with_error_code(ResponseError::GroupIdNotFound.code())
                            .with_error_message(Some(StrBytes::from_string(format!(
                                "Group {} not found.",
                                id.0.as_str()
                            ))))
                    } else {
                        dead
                    };
                };
                let members = g
                    .members
                    .into_iter()
                    .map(|m| {
                        DescribedGroupMember::default()
                            .with_member_id(StrBytes::from_string(m.member_id))
                            .with_group_instance_id(m.group_instance_id.map(StrBytes::from_string))
                            .with_client_id(StrBytes::from_string(m.client_id))
                            .with_client_host(StrBytes::from_string(m.client_host))
                            .with_member_metadata(m.metadata)
                            .with_member_assignment(m.assignment)
                    })
                    .collect();
                entry
                    .with_group_state(StrBytes::from_static_str(g.state))
                    .with_protocol_type(StrBytes::from_string(g.protocol_type))
                    .with_protocol_data(StrBytes::from_string(g.protocol_name))
                    .with_members(members)
            })
            .collect()
    });
    ResponseKind::DescribeGroups(DescribeGroupsResponse::default().with_groups(groups))
}
