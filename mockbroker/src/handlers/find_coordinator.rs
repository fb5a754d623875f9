//! FindCoordinator: the lowest-id broker coordinates every group; transactions have no
//! coordinator (they are not modelled). librdkafka needs this API advertised before it will
//! compress with lz4 (`rdkafka_feature.c`: the LZ4 feature depends on FindCoordinator).

use ktrial_protocol::messages::find_coordinator_response::Coordinator;
use ktrial_protocol::messages::{
    BrokerId, FindCoordinatorRequest, FindCoordinatorResponse, ResponseKind,
};
use ktrial_protocol::{ResponseError, StrBytes};
use tokio::time::Instant;

use crate::model::BrokerInfo;
use crate::shared::SharedCluster;

/// FindCoordinator v4 looks up a list of keys instead of one.
const BATCHED_VERSION: i16 = 4;
/// `FindCoordinatorRequest.CoordinatorType.TRANSACTION`.
const TRANSACTION_KEY: i8 = 1;

/// Handles a FindCoordinator request.
pub fn handle(
    cluster: &SharedCluster,
    version: i16,
    request: &FindCoordinatorRequest,
) -> ResponseKind {
    let coordinator = cluster.read(Instant::now(), |c| {
        c.brokers()
            .iter()
            .find(|b| b.id == c.controller_id())
            .cloned()
    });
    let found = coordinator.filter(|_| request.key_type != TRANSACTION_KEY);
    let response = if version >= BATCHED_VERSION {
        let coordinators = request
            .coordinator_keys
            .iter()
            .map(|key| {
                let entry = Coordinator::default().with_key(key.clone());
                match &found {
                    Some(b) => entry
                        .with_node_id(BrokerId(b.id))
                        .with_host(StrBytes::from_string(b.host.clone()))
                        .with_port(b.port),
                    None => entry.with_error_code(ResponseError::CoordinatorNotAvailable.code()),
                }
            })
            .collect();
        FindCoordinatorResponse::default().with_coordinators(coordinators)
    } else {
        single(found.as_ref())
    };
    ResponseKind::FindCoordinator(response)
}

fn single(found: Option<&BrokerInfo>) -> FindCoordinatorResponse {
    match found {
        Some(b) => FindCoordinatorResponse::default()
            .with_node_id(BrokerId(b.id))
            .with_host(StrBytes::from_string(b.host.clone()))
            .with_port(b.port),
        None => FindCoordinatorResponse::default()
            .with_error_code(ResponseError::CoordinatorNotAvailable.code())
            .with_node_id(BrokerId(-1))
            .with_port(-1),
    }
}
