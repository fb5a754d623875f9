//! Slow brokers without slow tests: on tokio's paused clock the cluster's timers and the
//! producer's waits all run on tokio's time, which jumps ahead whenever every task is waiting.
//! A 20-second delay on every Produce costs no wall time, and the request timeout is exact.

use std::time::Duration;

use ktrial_mockbroker::{ApiKey, FaultRule, MockCluster};
use orders_service::{ORDERS_TOPIC, OrderPublisher, orders};

#[tokio::test(start_paused = true)]
async fn a_twenty_second_delay_takes_twenty_seconds_of_tokio_time_and_no_more() {
    let cluster = MockCluster::builder()
        .topic(ORDERS_TOPIC, 1, 1)
        .fault(FaultRule::on(ApiKey::Produce).delay_ms(20_000))
        .start()
        .await
        .expect("cluster starts");
    let wall = std::time::Instant::now();
    let start = tokio::time::Instant::now();
    let publisher = OrderPublisher::connect(
        cluster.bootstrap_servers(),
        &[("linger.ms", "0"), ("request.timeout.ms", "30000")],
    )
    .await
    .expect("publisher connects");
    let results = publisher.publish_all(&orders(1, 1)).await;
    let took = start.elapsed();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        took >= Duration::from_secs(20) && took < Duration::from_secs(21),
        "one delayed Produce: {took:?}"
    );
    assert!(
        wall.elapsed() < Duration::from_secs(10),
        "the paused clock skipped the wait"
    );
    publisher
        .close(Duration::from_secs(5))
        .await
        .expect("close");
    cluster.shutdown().await;
}
