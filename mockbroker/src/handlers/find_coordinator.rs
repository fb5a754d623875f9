//! FindCoordinator: a group's coordinator is the broker its `__consumer_offsets` slot maps to
//! ([`coordinator_for`](crate::groups::coordinator_for)), so groups spread over the brokers as
//! in Kafka; transactions and share groups have no coordinator (they are not modelled). v4+
//! looks up a batch of keys. librdkafka needs this API advertised before it will compress with
//! lz4 (`rdkafka_feature.c`: the LZ4 feature depends on FindCoordinator).

use ktrial_protocol::messages::find_coordinator_response::Coordinator;
use ktrial_protocol::messages::{
    BrokerId, FindCoordinatorRequest, FindCoordinatorResponse, ResponseKind,
};
use ktrial_protocol::{ResponseError, StrBytes};

use crate::model::{BrokerInfo, Cluster};
use crate::shared::SharedCluster;

/// FindCoordinator v4 looks up a list of keys instead of one.
const BATCHED_VERSION: i16 = 4;
/// `FindCoordinatorRequest.CoordinatorType.GROUP`.
const GROUP_KEY: i8 = 0;

/// Handles a FindCoordinator request.
pub fn handle(
    cluster: &SharedCluster,
    version: i16,
    request: &FindCoordinatorRequest,
) -> ResponseKind {
    let response = cluster.read(cluster.now(), |c| {
        if version >= BATCHED_VERSION {
            let coordinators = request
                .coordinator_keys
                .iter()
                .map(|key| {
                    let entry = Coordinator::default().with_key(key.clone());
                    match lookup(c, request.key_type, key) {
                        Some(b) => entry
                            .with_node_id(BrokerId(b.id))
                            .with_host(StrBytes::from_string(b.host.clone()))
                            .with_port(b.port),
                        None => entry
                            .with_error_code(ResponseError::CoordinatorNotAvailable.code())
                            .with_node_id(BrokerId(-1))
                            .with_port(-1),
                    }
                })
                .collect();
            FindCoordinatorResponse::default().with_coordinators(coordinators)
        } else {
            single(lookup(c, request.key_type, &request.key))
        }
    });
    ResponseKind::FindCoordinator(response)
}

/// The coordinator of one key, for group keys only.
fn lookup<'c>(c: &'c Cluster, key_type: i8, key: &str) -> Option<&'c BrokerInfo> {
    if key_type != GROUP_KEY {
        return None;
    }
    let id = c.group_coordinator(key)?;
    c.brokers().iter().find(|b| b.id == id)
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
