//! ListGroups: the groups this broker coordinates, with protocol type, state (v4+, filterable)
//! and type (v5+: every group here is `classic`).

use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::list_groups_response::ListedGroup;
use ktrial_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse, ResponseKind};

use super::RequestContext;
use crate::shared::SharedCluster;

/// The only group type the model has.
const CLASSIC: &str = "classic";

/// Handles a ListGroups request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: &ListGroupsRequest,
) -> ResponseKind {
    let states: Vec<String> = request
        .states_filter
        .iter()
        .map(|s| s.to_string())
        .collect();
    let classic_wanted = request.types_filter.is_empty()
        || request
            .types_filter
            .iter()
            .any(|t| t.eq_ignore_ascii_case(CLASSIC));
    let groups = cluster.read(cluster.now(), |c| {
        c.groups()
            .list(&states)
            .into_iter()
            .filter(|g| classic_wanted && c.group_coordinator(&g.group_id) == Some(ctx.broker))
            .map(|g| {
                ListedGroup::default()
                    .with_group_id(GroupId(StrBytes::from_string(g.group_id)))
                    .with_protocol_type(StrBytes::from_string(g.protocol_type))
                    .with_group_state(StrBytes::from_static_str(g.state))
                    .with_group_type(StrBytes::from_static_str(CLASSIC))
            })
            .collect()
    });
    ResponseKind::ListGroups(ListGroupsResponse::default().with_groups(groups))
}
