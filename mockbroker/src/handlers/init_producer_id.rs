//! InitProducerId: a new producer id at epoch 0 for every request, as Kafka answers
//! non-transactional producers (transactions are not modelled).

use ktrial_protocol::messages::{
    InitProducerIdRequest, InitProducerIdResponse, ProducerId, ResponseKind,
};

use crate::shared::SharedCluster;

/// Handles an InitProducerId request.
pub fn handle(cluster: &SharedCluster, _request: &InitProducerIdRequest) -> ResponseKind {
    let (id, epoch) = cluster.update(cluster.now(), |c| c.allocate_producer_id());
    ResponseKind::InitProducerId(
        InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(epoch),
    )
}
