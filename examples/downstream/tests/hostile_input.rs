//! A hostile request against the in-process broker: a Produce request of 22 bytes whose body
//! declares 2^31-1 topics. The broker must close that connection and stay up, not try to reserve room for
//! two billion topics (which would abort the whole test process).

use std::time::Duration;

use ktrial_mockbroker::MockCluster;
use orders_service::{ORDERS_TOPIC, OrderPublisher, orders};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Produce v3 with a request header v1: api key 0, version 3, correlation id 5, no client id;
/// then the body: no transactional id, acks -1, timeout 30,000 ms, and a count of 2^31-1 topics
/// with none following.
fn hostile_produce() -> Vec<u8> {
    let mut request = Vec::new();
    request.extend_from_slice(&0i16.to_be_bytes());
    request.extend_from_slice(&3i16.to_be_bytes());
    request.extend_from_slice(&5i32.to_be_bytes());
    request.extend_from_slice(&(-1i16).to_be_bytes());
    request.extend_from_slice(&(-1i16).to_be_bytes());
    request.extend_from_slice(&(-1i16).to_be_bytes());
    request.extend_from_slice(&30_000i32.to_be_bytes());
    request.extend_from_slice(&i32::MAX.to_be_bytes());
    let mut frame = (request.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&request);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_produce_declaring_two_billion_topics_closes_its_connection_and_nothing_else() {
    let cluster = MockCluster::builder()
        .topic(ORDERS_TOPIC, 1, 1)
        .start()
        .await
        .expect("cluster starts");
    let broker = cluster
        .bootstrap_servers()
        .split(',')
        .next()
        .expect("a broker");

    let mut hostile = TcpStream::connect(broker).await.expect("connect");
    hostile.write_all(&hostile_produce()).await.expect("write");
    let mut answer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), hostile.read(&mut answer))
        .await
        .expect("the broker does not leave the connection hanging");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is closed without an answer: {read:?}"
    );

    // The process is alive and the broker still serves everyone else.
    let publisher = OrderPublisher::connect(cluster.bootstrap_servers(), &[])
        .await
        .expect("publisher connects");
    let results = publisher.publish_all(&orders(10, 2)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    publisher
        .close(Duration::from_secs(5))
        .await
        .expect("close");
    assert_eq!(cluster.high_watermark(ORDERS_TOPIC, 0), Some(10));
    cluster.shutdown().await;
}
