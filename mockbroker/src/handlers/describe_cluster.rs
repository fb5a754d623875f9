//! DescribeCluster: the cluster id, the controller and the brokers, for admin clients.

use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use ktrial_protocol::messages::{
    BrokerId, DescribeClusterRequest, DescribeClusterResponse, ResponseKind,
};

use crate::shared::SharedCluster;

/// Handles a DescribeCluster request.
pub fn handle(cluster: &SharedCluster, _request: &DescribeClusterRequest) -> ResponseKind {
    let response = cluster.read(cluster.now(), |c| {
        let brokers = c
            .brokers()
            .iter()
            .map(|b| {
                DescribeClusterBroker::default()
                    .with_broker_id(BrokerId(b.id))
                    .with_host(StrBytes::from_string(b.host.clone()))
                    .with_port(b.port)
            })
            .collect();
        DescribeClusterResponse::default()
            .with_cluster_id(StrBytes::from_string(c.config().cluster_id.clone()))
            .with_controller_id(BrokerId(c.controller_id()))
            .with_brokers(brokers)
    });
    ResponseKind::DescribeCluster(response)
}
