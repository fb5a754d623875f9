//! What acks=1 risks: orders acknowledged by a leader whose followers had not copied them are
//! gone after an unclean election, and the cluster's journal says which offsets were cut.

mod common;

use std::time::Duration;

use common::orders_in_log;
use ktrial_mockbroker::{ClusterEvent, Happening, MockCluster, NoticeKind};
use orders_service::{ORDERS_TOPIC, OrderPublisher, orders};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_1_loses_acknowledged_orders_in_an_unclean_election() {
    // The followers copy only after a minute, so everything acknowledged sits on broker 1 alone.
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(ORDERS_TOPIC, 1, 3)
        .replication_delay(2, Duration::from_secs(60))
        .replication_delay(3, Duration::from_secs(60))
        .start()
        .await
        .expect("cluster starts");
    let publisher = OrderPublisher::connect(
        cluster.bootstrap_servers(),
        &[("acks", "1"), ("enable.idempotence", "false")],
    )
    .await
    .expect("publisher connects");
    let sent = orders(20, 4);
    let results = publisher.publish_all(&sent).await;
    assert!(
        results.iter().all(Result::is_ok),
        "acks=1: the leader acknowledged"
    );
    assert_eq!(orders_in_log(&cluster, 0).len(), 20);

    cluster
        .apply_event(ClusterEvent::ElectLeader {
            topic: ORDERS_TOPIC.into(),
            partition: 0,
            unclean: true,
            leader: Some(2),
        })
        .expect("unclean election");

    assert_eq!(cluster.leader(ORDERS_TOPIC, 0), Some(2));
    assert!(
        orders_in_log(&cluster, 0).is_empty(),
        "20 acknowledged orders are gone"
    );
    let truncations: Vec<_> = cluster
        .journal()
        .into_iter()
        .filter_map(|entry| match entry.what {
            Happening::Cluster {
                notice: NoticeKind::Truncated { truncation, .. },
            } => Some(truncation),
            _ => None,
        })
        .collect();
    assert_eq!(truncations.len(), 1, "{}", cluster.timeline());
    let cut = truncations[0];
    assert_eq!((cut.from_offset, cut.to_offset, cut.records), (0, 20, 20));
    assert!(
        !cut.committed,
        "nothing had reached the high watermark: acks=all would not have been answered"
    );
    assert!(
        cluster.timeline().contains("truncat"),
        "{}",
        cluster.timeline()
    );
    publisher
        .close(Duration::from_secs(5))
        .await
        .expect("close");
    cluster.shutdown().await;
}
