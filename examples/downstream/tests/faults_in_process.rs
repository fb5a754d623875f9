//! The service against an in-process 3-broker cluster that loses a response, elects a new leader
//! mid-run and adds latency on one broker: with the service's settings (acks=all, idempotence)
//! every order is acknowledged, stored once, and each customer's orders stay in order.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::orders_in_log;
use ktrial_mockbroker::{ApiKey, ClusterEvent, FaultRule, Happening, MockCluster};
use orders_service::{ORDERS_TOPIC, Order, OrderPublisher, orders};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_once_and_in_order_through_a_lost_response_an_election_and_latency() {
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(ORDERS_TOPIC, 3, 3)
        // The third Produce request is applied but never answered: the producer times out and
        // retries a batch the broker already has.
        .fault(FaultRule::on(ApiKey::Produce).nth(3).lose_response().once())
        .start()
        .await
        .expect("cluster starts");
    let publisher = OrderPublisher::connect(
        cluster.bootstrap_servers(),
        &[("request.timeout.ms", "1000"), ("retry.backoff.ms", "20")],
    )
    .await
    .expect("publisher connects");

    let all = orders(600, 10);
    let results = publisher.publish_all(&all[..300]).await;
    // Broker 2 answers 50 ms late from now on, and partition 0 moves to another replica.
    cluster
        .apply_event(ClusterEvent::Latency { broker: 2, ms: 50 })
        .expect("latency");
    let old_leader = cluster.leader(ORDERS_TOPIC, 0).expect("a leader");
    cluster
        .apply_event(ClusterEvent::ElectLeader {
            topic: ORDERS_TOPIC.into(),
            partition: 0,
            unclean: false,
            leader: None,
        })
        .expect("clean election");
    assert_ne!(cluster.leader(ORDERS_TOPIC, 0), Some(old_leader));
    let results: Vec<_> = results
        .into_iter()
        .chain(publisher.publish_all(&all[300..]).await)
        .collect();
    publisher
        .close(Duration::from_secs(10))
        .await
        .expect("close");

    let timeline = cluster.timeline();
    assert!(
        results.iter().all(Result::is_ok),
        "every order acknowledged: {:?}\n{timeline}",
        results.iter().find(|r| r.is_err())
    );
    let journal = cluster.journal();
    assert_eq!(
        journal
            .iter()
            .filter(|e| e.what == Happening::ResponseLost)
            .count(),
        1,
        "{timeline}"
    );

    // Each order once, where it was acknowledged, and each customer's orders in increasing id.
    let logs: Vec<BTreeMap<i64, Order>> = (0..3)
        .map(|partition| orders_in_log(&cluster, partition).into_iter().collect())
        .collect();
    assert_eq!(
        logs.iter().map(BTreeMap::len).sum::<usize>(),
        600,
        "no order lost or written twice\n{timeline}"
    );
    let mut per_customer: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (order, result) in all.iter().zip(&results) {
        let meta = result.as_ref().expect("acknowledged");
        assert_eq!(logs[meta.partition as usize].get(&meta.offset), Some(order));
    }
    for log in &logs {
        for order in log.values() {
            per_customer
                .entry(order.customer.clone())
                .or_default()
                .push(order.id);
        }
    }
    for (customer, ids) in &per_customer {
        assert_eq!(
            *ids,
            (0..60).collect::<Vec<u64>>(),
            "{customer}\n{timeline}"
        );
    }
    cluster.shutdown().await;
}
