"""kafka-python against `ktrial broker`.

    kafka_python_client.py suite BOOTSTRAP
        For each codec kafka-python supports (none gzip snappy lz4 zstd), an idempotent producer
        (acks=all) writes keyed records to topic `orders`; then a consumer with assigned
        partitions (no group) reads every partition from the beginning to its end offset.
        Fails unless every record comes back exactly once, at the offset its producer was told,
        in the order it was sent within its partition.

    kafka_python_client.py capture BOOTSTRAP CODEC TOPIC COUNT
        Writes COUNT records `key-<i>` = `kafka-python-<CODEC>-<i>` (i from 1) to partition 0 of
        TOPIC in one batch, for capture/wire_capture.py.

Exits non-zero on any mismatch; every wait is bounded.
"""

import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
TOPIC = "orders"
PARTITIONS = 6
RECORDS_PER_CODEC = 300
TIMEOUT_S = 30


def fail(message):
    print(f"kafka-python: {message}", file=sys.stderr)
    sys.exit(1)


def producer(bootstrap, codec, **extra):
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="ktrial-kafka-python",
        compression_type=None if codec == "none" else codec,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=TIMEOUT_S * 1000,
        max_block_ms=TIMEOUT_S * 1000,
        **extra,
    )


def producer_id(prod):
    # kafka-python has no public accessor; the transaction manager holds what InitProducerId gave.
    return prod._transaction_manager.producer_id_and_epoch.producer_id


def produce_all(bootstrap):
    """Sends every codec's records; returns {partition: [(offset, key, value), ...]} in send order."""
    sent = {p: [] for p in range(PARTITIONS)}
    for codec in CODECS:
        prod = producer(bootstrap, codec, linger_ms=5)
        futures = []
        for i in range(RECORDS_PER_CODEC):
            key = f"key-{i % 25}".encode()
            value = f"{codec}-value-{i}".encode()
            futures.append((key, value, prod.send(TOPIC, key=key, value=value)))
        prod.flush(timeout=TIMEOUT_S)
        for key, value, future in futures:
            meta = future.get(timeout=TIMEOUT_S)
            sent[meta.partition].append((meta.offset, key, value))
        pid = producer_id(prod)
        if pid < 0:
            fail(f"{codec}: producer has no producer id, idempotence not in use")
        prod.close(timeout=TIMEOUT_S)
    for partition, records in sent.items():
        offsets = [offset for offset, _, _ in records]
        if offsets != sorted(set(offsets)):
            fail(f"partition {partition}: acked offsets not increasing in send order")
    return sent


def consume_all(bootstrap):
    """Reads every assigned partition from the beginning to its end offset."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="ktrial-kafka-python",
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=TIMEOUT_S * 1000 + 1000,
    )
    partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end = consumer.end_offsets(partitions, timeout_ms=TIMEOUT_S * 1000)
    read = {p: [] for p in range(PARTITIONS)}
    deadline = time.monotonic() + TIMEOUT_S
    while any(consumer.position(tp) < end[tp] for tp in partitions):
        if time.monotonic() > deadline:
            fail(f"consumer: end offsets {end} not reached in {TIMEOUT_S} s")
        for tp, records in consumer.poll(timeout_ms=500).items():
            read[tp.partition].extend((r.offset, r.key, r.value) for r in records)
    consumer.close()
    return read


def suite(bootstrap):
    sent = produce_all(bootstrap)
    read = consume_all(bootstrap)
    total = 0
    for partition in range(PARTITIONS):
        if read[partition] != sent[partition]:
            fail(
                f"partition {partition}: read {len(read[partition])} records, sent "
                f"{len(sent[partition])}, or not the same records in the same order"
            )
        total += len(read[partition])
    expected = RECORDS_PER_CODEC * len(CODECS)
    if total != expected:
        fail(f"read {total} records, expected {expected}")
    print(
        f"kafka-python: idempotent producer ({' '.join(CODECS)}), assigned consumer: "
        f"{total} records read back once each, in order, at their acked offsets"
    )


def capture(bootstrap, codec, topic, count):
    prod = producer(bootstrap, codec, linger_ms=200)
    futures = [
        prod.send(
            topic,
            key=f"key-{i}".encode(),
            value=f"kafka-python-{codec}-{i}".encode(),
            partition=0,
        )
        for i in range(1, count + 1)
    ]
    prod.flush(timeout=TIMEOUT_S)
    for future in futures:
        future.get(timeout=TIMEOUT_S)
    prod.close(timeout=TIMEOUT_S)


def main(argv):
    if len(argv) == 3 and argv[1] == "suite":
        suite(argv[2])
    elif len(argv) == 6 and argv[1] == "capture":
        capture(argv[2], argv[3], argv[4], int(argv[5]))
    else:
        fail("usage: kafka_python_client.py suite BOOTSTRAP | capture BOOTSTRAP CODEC TOPIC COUNT")


if __name__ == "__main__":
    main(sys.argv)
