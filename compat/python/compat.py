"""kafka-python as a client of the ktrial compatibility matrix (compat/run.sh).

Produces keyed records with acks=all, reads them back from the earliest offset by partition
assignment (no consumer group) up to each partition's high watermark, and verifies them. The record
layout and the JSON result lines are the ones every client program follows (compat/README.md).

usage: compat.py BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]
"""

import json
import os
import sys
import time

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kafka_codec

DEADLINE_S = 30
KEYS = 8
CODEC_AVAILABLE = {
    "none": lambda: True,
    "gzip": kafka_codec.has_gzip,
    "snappy": kafka_codec.has_snappy,
    "lz4": kafka_codec.has_lz4,
    "zstd": kafka_codec.has_zstd,
}


def key(i):
    return f"key-{i % KEYS}"


def value(topic, i):
    return f"{topic}:{i}:{'x' * 64}"


def produce(bootstrap, topic, codec, idempotent, records):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        acks="all",
        enable_idempotence=idempotent,
        compression_type=None if codec == "none" else codec,
        delivery_timeout_ms=DEADLINE_S * 1000,
    )
    try:
        futures = [
            producer.send(topic, key=key(i).encode(), value=value(topic, i).encode())
            for i in range(records)
        ]
        producer.flush(timeout=DEADLINE_S)
        for i, future in enumerate(futures):
            future.get(timeout=DEADLINE_S)  # raises the delivery error, if any
    finally:
        producer.close(timeout=5)


def consume(bootstrap, topic):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=None,
        enable_auto_commit=False,
        check_crcs=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        partitions = None
        while not partitions:
            partitions = consumer.partitions_for_topic(topic)
            if time.monotonic() > deadline:
                raise RuntimeError(f"no partitions known for {topic}")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = consumer.end_offsets(assigned, timeout_ms=DEADLINE_S * 1000)
        remaining = {tp: end for tp, end in ends.items() if end > 0}
        consumer.assign(list(remaining))
        consumer.seek_to_beginning()
        received = []
        while remaining:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"read {len(received)} records, partitions not read to their end: "
                    f"{ {tp.partition: end for tp, end in remaining.items()} }"
                )
            for tp, messages in consumer.poll(timeout_ms=200).items():
                for message in messages:
                    received.append(
                        (tp.partition, (message.key or b"").decode(), (message.value or b"").decode())
                    )
                    if tp in remaining and message.offset + 1 >= remaining[tp]:
                        del remaining[tp]
        return received
    finally:
        consumer.close()


def verify(topic, records, received):
    """Count, content, no duplicates, and the order of each key's records in its partition."""
    if len(received) != records:
        raise RuntimeError(f"read {len(received)} records, produced {records}")
    seen = set()
    last_of_key = {}
    for partition, key_read, value_read in received:
        parts = value_read.split(":")
        index = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else -1
        if not 0 <= index < records:
            raise RuntimeError(f"unexpected value {value_read!r}")
        if value_read != value(topic, index) or key_read != key(index):
            raise RuntimeError(f"record {index} altered: key {key_read!r}")
        if index in seen:
            raise RuntimeError(f"record {index} read twice")
        seen.add(index)
        previous = last_of_key.get(key_read)
        if previous is not None and (previous[0] != partition or previous[1] > index):
            raise RuntimeError(
                f"key {key_read}: record {index} (partition {partition}) after "
                f"{previous[1]} (partition {previous[0]})"
            )
        last_of_key[key_read] = (partition, index)


def report(check, codec, idempotent, records, started, result, detail=""):
    print(json.dumps({
        "client": "kafka-python",
        "client_version": kafka.__version__,
        "check": check,
        "codec": codec,
        "idempotent": idempotent,
        "result": result,
        "records": records,
        "ms": int((time.monotonic() - started) * 1000),
        "detail": detail,
    }), flush=True)


def run_check(check, codec, idempotent, records, action):
    started = time.monotonic()
    try:
        outcome = action()
    except Exception as error:  # every failure becomes a "fail" line, never a traceback
        report(check, codec, idempotent, records, started, "fail", f"{type(error).__name__}: {error}")
        return False, None
    report(check, codec, idempotent, records, started, "pass")
    return True, outcome


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    bootstrap, prefix, codec = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) == 5 else "plain"
    idempotent = mode == "idempotent"
    records = int(os.environ.get("COMPAT_RECORDS", "1000"))
    topic = f"{prefix}-{codec}-{mode}"
    if not CODEC_AVAILABLE[codec]():
        for check in ("produce", "consume"):
            report(check, codec, idempotent, records, time.monotonic(), "unsupported",
                   f"no {codec} library installed")
        return 0
    produced, _ = run_check("produce", codec, idempotent, records,
                            lambda: produce(bootstrap, topic, codec, idempotent, records))
    if not produced:
        report("consume", codec, idempotent, records, time.monotonic(), "fail", "not run: produce failed")
        return 1
    consumed, _ = run_check("consume", codec, idempotent, records,
                            lambda: verify(topic, records, consume(bootstrap, topic)))
    return 0 if consumed else 1


if __name__ == "__main__":
    sys.exit(main())
