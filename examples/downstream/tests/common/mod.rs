//! What the tests share: reading the orders back from the cluster's log.

use ktrial_mockbroker::MockCluster;
use orders_service::{ORDERS_TOPIC, Order};

/// Every order in `partition` of the orders topic, in log order, with its offset.
pub fn orders_in_log(cluster: &MockCluster, partition: i32) -> Vec<(i64, Order)> {
    cluster
        .records(ORDERS_TOPIC, partition)
        .expect("the orders topic exists")
        .iter()
        .map(|record| {
            let value = record.value.as_deref().expect("orders have values");
            (record.offset, Order::decode(value).expect("an order"))
        })
        .collect()
}
