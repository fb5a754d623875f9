"""kafka-python's group consumer against `ktrial broker`.

    python kafka_python_group.py BOOTSTRAP

A producer writes 100 records over 3 partitions. A KafkaConsumer in group `py-group` reads 50 of
them, commits, and closes; a new consumer in the same group resumes from the committed offsets
and reads exactly the other 50. Exits non-zero on any mismatch; every wait is bounded.
"""

import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

TOPIC = "py-events"
GROUP = "py-group"
PARTITIONS = 3
RECORDS = 100
FIRST = 50
TIMEOUT_S = 60


def fail(message):
    print(f"kafka-python group: {message}", file=sys.stderr)
    sys.exit(1)


def consumer(bootstrap):
    return KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap.split(","),
        group_id=GROUP,
        client_id="py-group-consumer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        max_poll_records=1,
    )


def read(c, count):
    """Exactly `count` values, one poll record at a time, within the timeout."""
    values = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(values) < count:
        if time.monotonic() > deadline:
            fail(f"read {len(values)} of {count} records")
        for records in c.poll(timeout_ms=500, max_records=count - len(values)).values():
            values.extend(r.value.decode() for r in records)
    return values


def main(bootstrap):
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","))
    for i in range(RECORDS):
        producer.send(TOPIC, value=f"v-{i}".encode(), partition=i % PARTITIONS).get(timeout=TIMEOUT_S)
    producer.close()

    first = consumer(bootstrap)
    got = read(first, FIRST)
    first.commit()
    committed = {
        p: first.committed(TopicPartition(TOPIC, p)) for p in range(PARTITIONS)
    }
    positions = {p: first.position(TopicPartition(TOPIC, p)) for p in range(PARTITIONS)}
    if committed != positions:
        fail(f"committed {committed} != positions {positions}")
    if sum(committed.values()) != FIRST:
        fail(f"committed offsets {committed} do not add up to {FIRST}")
    first.close()

    # A restart: the new consumer resumes where the group committed, reading only the rest.
    second = consumer(bootstrap)
    rest = read(second, RECORDS - FIRST)
    extra = second.poll(timeout_ms=2000)
    if any(extra.values()):
        fail(f"read more than the {RECORDS} records: {extra}")
    second.close()

    everything = got + rest
    if sorted(everything) != sorted(f"v-{i}" for i in range(RECORDS)):
        dupes = sorted({v for v in everything if everything.count(v) > 1})
        fail(f"not each record once: {len(everything)} read, duplicates {dupes[:10]}")
    print(f"kafka-python group: {FIRST} read and committed {committed}, resumed for the other {RECORDS - FIRST}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: kafka_python_group.py BOOTSTRAP")
    main(sys.argv[1])
