//! Bad input on a live broker: each case on its own connection gets a Kafka error or a closed
//! connection, and a well-behaved client on another connection is unaffected throughout.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::{batch, produce_request};
use ktrial_mockbroker::MockCluster;
use ktrial_protocol::codec::{decode_response, encode_request};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::{
    ApiKey, ApiVersionsRequest, MetadataRequest, RequestHeader, RequestKind, ResponseKind,
};
use ktrial_protocol::records::{ProducerState, set_producer_state};
use ktrial_protocol::{ResponseError, StrBytes};
use rand::{RngCore, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(5);

fn header(api_key: ApiKey, version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader::default()
        .with_request_api_key(api_key as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("bad-input-test")))
}

async fn read_frame(stream: &mut TcpStream) -> Option<Bytes> {
    let len = timeout(PATIENCE, stream.read_i32()).await.unwrap().ok()?;
    let mut body = vec![0; usize::try_from(len).unwrap()];
    timeout(PATIENCE, stream.read_exact(&mut body))
        .await
        .unwrap()
        .ok()?;
    Some(Bytes::from(body))
}

/// Sends a request and decodes the answer at `answer_version`.
async fn call(
    stream: &mut TcpStream,
    api_key: ApiKey,
    version: i16,
    answer_version: i16,
    body: RequestKind,
) -> ResponseKind {
    stream
        .write_all(&encode_request(&header(api_key, version, 42), &body).unwrap())
        .await
        .unwrap();
    let frame = read_frame(stream).await.expect("an answer");
    let (header, response) = decode_response(api_key, answer_version, frame).unwrap();
    assert_eq!(header.correlation_id, 42);
    response
}

/// The broker closes the connection: the next read sees the end.
async fn assert_closed(stream: &mut TcpStream) {
    let mut rest = Vec::new();
    let read = timeout(PATIENCE, stream.read_to_end(&mut rest))
        .await
        .expect("closed in time");
    assert!(
        read.is_err() || rest.is_empty(),
        "no answer expected, got {} bytes",
        rest.len()
    );
}

/// The well-behaved client: Metadata and an acks=all produce still work.
async fn assert_healthy(good: &mut TcpStream) {
    let metadata = MetadataRequest::default().with_topics(None);
    let ResponseKind::Metadata(m) = call(
        good,
        ApiKey::Metadata,
        12,
        12,
        RequestKind::Metadata(metadata),
    )
    .await
    else {
        panic!("metadata answer expected");
    };
    assert_eq!(m.brokers.len(), 2);
    let request = produce_request(
        -1,
        5000,
        &[("t", 0, batch(Compression::Lz4, 3, ProducerState::NONE))],
    );
    let ResponseKind::Produce(p) =
        call(good, ApiKey::Produce, 9, 9, RequestKind::Produce(request)).await
    else {
        panic!("produce answer expected");
    };
    assert_eq!(p.responses[0].partition_responses[0].error_code, 0);
}

async fn connect(cluster: &MockCluster) -> TcpStream {
    let first = cluster
        .bootstrap_servers()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    TcpStream::connect(first).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_closes_or_errors_only_its_own_connection() {
    // The broker's one line per closed connection shows with `--nocapture`.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let cluster = MockCluster::builder()
        .brokers(2)
        .topic("t", 1, 2)
        .start()
        .await
        .unwrap();
    let mut good = connect(&cluster).await;
    assert_healthy(&mut good).await;

    // Random bytes (seeded): the size prefix is nonsense, the connection is closed.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for _ in 0..20 {
        let mut noise = vec![0u8; 4096];
        rng.fill_bytes(&mut noise);
        let mut bad = connect(&cluster).await;
        let _ = bad.write_all(&noise).await;
        assert_closed(&mut bad).await;
    }
    // Random bodies behind a valid size: answered or closed, never a hang; then the client
    // stops writing and the broker ends the connection.
    for _ in 0..200 {
        let len = (rng.next_u32() % 300) as usize;
        let mut frame = (len as i32).to_be_bytes().to_vec();
        frame.resize(4 + len, 0);
        rng.fill_bytes(&mut frame[4..]);
        let mut bad = connect(&cluster).await;
        bad.write_all(&frame).await.unwrap();
        bad.shutdown().await.unwrap();
        let mut rest = Vec::new();
        timeout(PATIENCE, bad.read_to_end(&mut rest))
            .await
            .expect("ended in time")
            .ok();
    }
    assert_healthy(&mut good).await;

    // A length prefix of 2^31-1: refused before anything is buffered.
    let mut bad = connect(&cluster).await;
    bad.write_all(&i32::MAX.to_be_bytes()).await.unwrap();
    bad.write_all(&[0; 64]).await.unwrap();
    assert_closed(&mut bad).await;

    // A truncated frame: 100 bytes announced, 10 sent, then the client stops writing.
    let mut bad = connect(&cluster).await;
    bad.write_all(&100i32.to_be_bytes()).await.unwrap();
    bad.write_all(&[0, 18, 0, 3, 0, 0, 0, 1, 0, 0])
        .await
        .unwrap();
    bad.shutdown().await.unwrap();
    assert_closed(&mut bad).await;

    // An unknown API key.
    let mut bad = connect(&cluster).await;
    bad.write_all(&[0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff])
        .await
        .unwrap();
    assert_closed(&mut bad).await;

    // An unsupported ApiVersions version: UNSUPPORTED_VERSION at v0, with ApiVersions' range.
    let mut bad = connect(&cluster).await;
    let mut frame = BytesMut::new();
    frame.extend_from_slice(&14i32.to_be_bytes());
    frame.extend_from_slice(&[0, 18, 0, 99, 0, 0, 0, 42, 0, 4, b't', b'e', b's', b't']);
    bad.write_all(&frame).await.unwrap();
    let (_, answer) =
        decode_response(ApiKey::ApiVersions, 0, read_frame(&mut bad).await.unwrap()).unwrap();
    let ResponseKind::ApiVersions(answer) = answer else {
        panic!("ApiVersions answer")
    };
    assert_eq!(answer.error_code, ResponseError::UnsupportedVersion.code());
    assert_eq!(answer.api_keys.len(), 1);
    assert_eq!(
        (answer.api_keys[0].api_key, answer.api_keys[0].max_version),
        (18, 4)
    );
    // ...after which the client retries with a version the broker has.
    let ResponseKind::ApiVersions(ok) = call(
        &mut bad,
        ApiKey::ApiVersions,
        3,
        3,
        RequestKind::ApiVersions(ApiVersionsRequest::default()),
    )
    .await
    else {
        panic!("ApiVersions answer");
    };
    assert_eq!(ok.error_code, 0);
    let produce = ok.api_keys.iter().find(|k| k.api_key == 0).unwrap();
    assert_eq!(
        (produce.min_version, produce.max_version),
        (0, 12),
        "Produce advertised from v0"
    );

    // Produce v2 is advertised but refused, as Kafka 4 does: the connection is closed.
    let mut bad = connect(&cluster).await;
    let frame = [
        0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 5, 0xff, 0xff, 0, 1, 0, 0, 0x03, 0xe8, 0, 0,
    ];
    bad.write_all(&frame).await.unwrap();
    assert_closed(&mut bad).await;

    // A supported API at a version above what this broker serves (Metadata v13).
    let mut bad = connect(&cluster).await;
    let body = RequestKind::Metadata(MetadataRequest::default());
    bad.write_all(&encode_request(&header(ApiKey::Metadata, 13, 1), &body).unwrap())
        .await
        .unwrap();
    assert_closed(&mut bad).await;
    assert_healthy(&mut good).await;

    // A batch with a bad CRC, and one declaring more records than it holds: Kafka error codes on
    // the same connection, which stays usable.
    let mut bad = connect(&cluster).await;
    let good_batch = batch(Compression::None, 2, ProducerState::NONE);
    let mut bad_crc = BytesMut::from(&good_batch[..]);
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 0x55;
    let mut overcounted = BytesMut::from(&good_batch[..]);
    overcounted[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
    set_producer_state(&mut overcounted, ProducerState::NONE).unwrap();
    for (records, expected) in [
        (bad_crc.freeze(), ResponseError::CorruptMessage),
        (overcounted.freeze(), ResponseError::InvalidRecord),
    ] {
        let request = produce_request(1, 5000, &[("t", 0, records)]);
        let ResponseKind::Produce(p) = call(
            &mut bad,
            ApiKey::Produce,
            9,
            9,
            RequestKind::Produce(request),
        )
        .await
        else {
            panic!("produce answer expected");
        };
        assert_eq!(
            p.responses[0].partition_responses[0].error_code,
            expected.code()
        );
    }

    // A malformed body: a Produce v9 frame cut inside its topic array.
    let request = produce_request(1, 5000, &[("t", 0, good_batch)]);
    let full = encode_request(
        &header(ApiKey::Produce, 9, 3),
        &RequestKind::Produce(request),
    )
    .unwrap();
    let cut = &full[4..40];
    let mut frame = BytesMut::new();
    frame.extend_from_slice(&(cut.len() as i32).to_be_bytes());
    frame.extend_from_slice(cut);
    bad.write_all(&frame).await.unwrap();
    assert_closed(&mut bad).await;

    assert_healthy(&mut good).await;
    assert_eq!(
        cluster.high_watermark("t", 0),
        Some(12),
        "only the good client's records landed"
    );
    cluster.shutdown().await;
}
