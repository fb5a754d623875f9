//! DeleteGroups: removes empty groups and their committed offsets; NON_EMPTY_GROUP while
//! members remain, GROUP_ID_NOT_FOUND for a group that does not exist.

use ktrial_protocol::messages::delete_groups_response::DeletableGroupResult;
use ktrial_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse, ResponseKind};

use super::{RequestContext, code};
use crate::shared::SharedCluster;

/// Handles a DeleteGroups request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: &DeleteGroupsRequest,
) -> ResponseKind {
    let results = cluster.update(cluster.now(), |c| {
        request
            .groups_names
            .iter()
            .map(|id| {
                let outcome = c
                    .check_group_coordinator(ctx.broker, &id.0)
                    .and_then(|()| c.groups_mut().delete(&id.0));
                DeletableGroupResult::default()
                    .with_group_id(id.clone())
                    .with_error_code(code(outcome.err()))
            })
            .collect()
    });
    ResponseKind::DeleteGroups(DeleteGroupsResponse::default().with_results(results))
}
