//! A client the team did not write, rust-rdkafka (librdkafka), pointed at the same in-process
//! cluster: what the service published, a librdkafka consumer reads back.

use std::time::Duration;

use ktrial_mockbroker::MockCluster;
use orders_service::{ORDERS_TOPIC, Order, OrderPublisher, orders};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librdkafka_reads_back_what_the_service_published() {
    let cluster = MockCluster::builder()
        .topic(ORDERS_TOPIC, 1, 1)
        .start()
        .await
        .expect("cluster starts");
    let publisher = OrderPublisher::connect(cluster.bootstrap_servers(), &[])
        .await
        .expect("publisher connects");
    let sent = orders(100, 5);
    assert!(publisher.publish_all(&sent).await.iter().all(Result::is_ok));
    publisher
        .close(Duration::from_secs(5))
        .await
        .expect("close");

    let bootstrap = cluster.bootstrap_servers().to_string();
    let read = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", "orders-reader")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(ORDERS_TOPIC, 0, Offset::Beginning)
            .expect("partition");
        consumer.assign(&assignment).expect("assign");
        let mut read = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while read.len() < 100 && std::time::Instant::now() < deadline {
            if let Some(message) = consumer.poll(Duration::from_millis(100)) {
                let message = message.expect("no consumer error");
                read.push(Order::decode(message.payload().expect("a value")).expect("an order"));
            }
        }
        read
    })
    .await
    .expect("consumer thread");
    assert_eq!(read, sent, "every order, once, in the order published");
    cluster.shutdown().await;
}
