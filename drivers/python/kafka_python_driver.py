"""The kafka-python driver of ktrial (docs/drivers.md).

Reads the workload as one JSON object on stdin, produces record i (8-byte big-endian id, then '.'
up to value_size; key "key-<i mod keys>" or null) through kafka.KafkaProducer, and prints one JSON
line per delivery report on stdout, then a final line. Runs in compat/python/.venv (kafka-python
3.0.12 with lz4, python-snappy and zstandard).
"""

import json
import struct
import sys
import threading
import time

# The longest the warm-up before the started line may take; then the driver carries on.
WARM_UP_S = 10.0

FIELDS = {"bootstrap_servers", "topic", "records", "keys", "value_size", "mode", "rate",
          "flush_every", "properties", "native"}

# Kafka property -> kafka-python config. kafka-python's names are Java's with underscores; these
# are the portable properties (docs/drivers.md). Any other Kafka property whose underscore form is
# a kafka-python producer config (max.block.ms, metadata.max.age.ms, ...) is passed the same way.
PROPERTIES = {
    "acks": "acks",
    "linger.ms": "linger_ms",
    "batch.size": "batch_size",
    "max.request.size": "max_request_size",
    "max.in.flight.requests.per.connection": "max_in_flight_requests_per_connection",
    "retries": "retries",
    "retry.backoff.ms": "retry_backoff_ms",
    "enable.idempotence": "enable_idempotence",
    "compression.type": "compression_type",
    "request.timeout.ms": "request_timeout_ms",
    "delivery.timeout.ms": "delivery_timeout_ms",
    "client.id": "client_id",
}
# Portable properties kafka-python has no setting for.
CANNOT = {
    "batch.num.messages": "kafka-python bounds batches by bytes (batch_size), not by record count",
    "retry.backoff.max.ms": "kafka-python 3.0.12 backs off retry_backoff_ms every time (no exponential backoff, "
                            "no retry_backoff_max_ms); only retry.backoff.max.ms equal to retry.backoff.ms can be expressed",
}
# Configs that are objects, not settings a string can give.
NOT_SETTINGS = {"bootstrap_servers", "key_serializer", "value_serializer", "partitioner", "selector",
                "kafka_client", "metric_reporters", "ssl_context", "socket_options",
                "sasl_oauth_token_provider"}

_out = threading.Lock()
_start = 0.0


def emit(obj):
    line = json.dumps(obj, separators=(",", ":")) + "\n"
    with _out:
        sys.stdout.write(line)
        sys.stdout.flush()


def ms():
    return round((time.monotonic() - _start) * 1000, 3)


class Fatal(Exception):
    def __init__(self, message, prop=None, where="properties"):
        super().__init__(message)
        self.prop = prop
        self.where = where


def read_input():
    raw = sys.stdin.read()
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise Fatal(f"input: {e}", None, "input")
    if not isinstance(data, dict):
        raise Fatal("input: expected one JSON object", None, "input")
    for k in data:
        if k not in FIELDS:
            raise Fatal(f"input: unknown field {k}", None, "input")
    if not isinstance(data.get("bootstrap_servers"), str) or not isinstance(data.get("topic"), str):
        raise Fatal("input: bootstrap_servers and topic are required strings", None, "input")
    if not isinstance(data.get("records"), int) or data["records"] < 0:
        raise Fatal("input: records is required, an integer >= 0", None, "input")
    data.setdefault("keys", 0)
    data.setdefault("value_size", 100)
    data["mode"] = data.get("mode") or "async"
    if data["mode"] not in ("sync", "async", "fire-and-forget"):
        raise Fatal(f"input: mode {data['mode']!r} is not sync, async or fire-and-forget", None, "input")
    if data.get("rate") is not None and not data["rate"] > 0:
        raise Fatal("input: rate must be > 0", None, "input")
    if data.get("flush_every") is not None and not data["flush_every"] > 0:
        raise Fatal("input: flush_every must be > 0", None, "input")
    for field in ("properties", "native"):
        m = data.get(field) or {}
        if not isinstance(m, dict):
            raise Fatal(f"input: {field} must be an object", None, "input")
        for k, v in m.items():
            if not isinstance(v, str):
                raise Fatal(f"{k}: values are strings", k, field)
        data[field] = m
    return data


def convert(kafka_python_name, text, given_as, where, defaults):
    """A string value as the type of kafka-python's default for that config."""
    default = defaults[kafka_python_name]
    text = text.strip()
    try:
        if kafka_python_name == "acks":
            return {"0": 0, "1": 1, "-1": "all", "all": "all"}[text]
        if kafka_python_name == "compression_type":
            if text not in ("none", "gzip", "snappy", "lz4", "zstd"):
                raise ValueError("expected none, gzip, snappy, lz4 or zstd")
            return None if text == "none" else text
        if kafka_python_name == "api_version":
            return tuple(int(x) for x in text.replace(",", ".").split("."))
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError("expected true or false")
            return text.lower() == "true"
        if isinstance(default, int) or kafka_python_name == "retries":
            n = int(text)
            if n < 0:
                raise ValueError("expected an integer >= 0")
            return n
        if isinstance(default, float):
            return float(text)
        return text
    except (ValueError, KeyError) as e:
        raise Fatal(f"{given_as}={text!r}: {e}", given_as, where)


def configure(data, defaults):
    config = {"bootstrap_servers": data["bootstrap_servers"].split(",")}
    origin = {}  # kafka-python name -> (given name, where)
    props = data["properties"]
    if "bootstrap.servers" in props:
        raise Fatal("bootstrap.servers belongs in bootstrap_servers, not in properties", "bootstrap.servers")
    for name, value in sorted(props.items()):
        if name == "retry.backoff.max.ms" and value.strip() == props.get("retry.backoff.ms", "100").strip():
            continue  # a cap equal to the base: Java's backoff is then constant, as kafka-python's is
        if name in CANNOT:
            raise Fatal(f"{name}: {CANNOT[name]}", name)
        target = PROPERTIES.get(name) or name.replace(".", "_")
        if target not in defaults or target in NOT_SETTINGS or (name not in PROPERTIES and "." not in name):
            raise Fatal(f"{name}: not a property the kafka-python driver maps (docs/drivers.md); "
                        "kafka-python configs go in native", name)
        config[target] = convert(target, value, name, "properties", defaults)
        origin[target] = (name, "properties")
    for name, value in sorted(data["native"].items()):
        if name not in defaults or name in NOT_SETTINGS:
            raise Fatal(f"{name}: not a kafka-python producer config this driver can set from a string", name, "native")
        config[name] = convert(name, value, name, "native", defaults)
        origin[name] = (name, "native")
    return config, origin


def blame(message, origin):
    """The given property a kafka-python error message names."""
    best = None
    for target, (given, where) in origin.items():
        if target in message and (best is None or len(target) > len(best[0])):
            best = (target, given, where)
    if best is None and "idempoten" in message and "enable_idempotence" in origin:
        best = ("enable_idempotence",) + origin["enable_idempotence"]
    return (best[1], best[2]) if best else (None, "properties")


def error_text(e):
    text = str(e)
    name = type(e).__name__
    return text if text.startswith(name) else f"{name}: {text}"


def warm_up(producer, topic):
    """Before the started line: the topic's partitions and leaders, and a ready connection to each
    leader, so that record 0 leaves at once (without this the first send fetches the metadata and
    the sender then connects to the leader: ~110 ms). partitions_for fetches the metadata (asking
    for the topic to be created, as a send would); the connections are opened on the client's IO
    loop as its sender would (kafka-python 3.0.12's KafkaNetClient.maybe_connect, scheduled with
    call_soon, which is thread-safe); an idempotent producer also waits for its producer id.
    Bounded by WARM_UP_S; a failure is logged on stderr and the driver carries on."""
    from kafka.structs import TopicPartition
    begin = time.monotonic()
    deadline = begin + WARM_UP_S
    found = {}

    def fetch():
        try:
            found["partitions"] = producer.partitions_for(topic)
        except Exception as e:  # e.g. KafkaTimeoutError after max_block_ms
            found["error"] = e

    fetcher = threading.Thread(target=fetch, name="driver-warm-up", daemon=True)
    fetcher.start()
    fetcher.join(WARM_UP_S)
    if "partitions" not in found:
        why = error_text(found["error"]) if "error" in found else f"no metadata within {WARM_UP_S} s"
        print(f"driver: warm-up: partitions_for({topic}): {why}; carrying on", file=sys.stderr)
        return
    try:
        cluster = producer._metadata
        leaders = {cluster.leader_for_partition(TopicPartition(topic, p)) for p in found["partitions"]}
        leaders -= {None, -1}
        client = producer._sender._client
        for node in leaders:
            if not client.is_ready(node):
                client._manager.call_soon(client.maybe_connect, node)
        while not all(client.is_ready(node) for node in leaders):
            if time.monotonic() >= deadline:
                waiting = sorted(n for n in leaders if not client.is_ready(n))
                print(f"driver: warm-up: not connected to leader(s) {waiting} within {WARM_UP_S} s; carrying on",
                      file=sys.stderr)
                return
            time.sleep(0.001)
        # The idempotent producer's id, which the sender asks for as soon as it starts.
        txn = producer._transaction_manager
        while txn is not None and not txn.is_transactional() and not txn.has_producer_id():
            if time.monotonic() >= deadline:
                print(f"driver: warm-up: no producer id within {WARM_UP_S} s; carrying on", file=sys.stderr)
                return
            time.sleep(0.001)
    except Exception as e:  # kafka-python internals moved: the metadata is there at least
        print(f"driver: warm-up: connecting to the leaders: {error_text(e)}; carrying on", file=sys.stderr)
        return
    print(f"driver: warm-up: {topic}: {len(found['partitions'])} partition(s), leaders {sorted(leaders)} connected "
          f"in {(time.monotonic() - begin) * 1000:.1f} ms", file=sys.stderr)


def main():
    global _start
    try:
        import kafka
        from kafka import KafkaProducer
        from kafka.errors import KafkaConfigurationError
    except ImportError as e:  # not installed: a driver failure, not a configuration problem
        emit({"fatal": f"kafka-python not importable: {e}", "property": None, "in": "client"})
        return 1
    version = f"kafka-python {kafka.__version__}"
    try:
        data = read_input()
        config, origin = configure(data, KafkaProducer.DEFAULT_CONFIG)
        try:
            producer = KafkaProducer(**config)
        except (KafkaConfigurationError, ValueError, RuntimeError, TypeError) as e:
            prop, where = blame(str(e), origin)
            raise Fatal(f"kafka-python: {error_text(e)}", prop, where)
        except Exception as e:  # e.g. no bootstrap server answered within bootstrap_timeout_ms
            emit({"fatal": f"kafka-python: {error_text(e)}", "property": None, "in": "client"})
            return 1
    except Fatal as f:
        emit({"fatal": str(f), "property": f.prop, "in": f.where})
        return 2

    acks_zero = config.get("acks") == 0
    delivery_ms = config.get("delivery_timeout_ms", KafkaProducer.DEFAULT_CONFIG["delivery_timeout_ms"])
    grace = delivery_ms / 1000 + 20
    topic, records, keys = data["topic"], data["records"], data["keys"]
    value_size = max(8, data["value_size"])
    mode, rate, flush_every = data["mode"], data.get("rate"), data.get("flush_every")

    lock = threading.Lock()
    reported = set()
    counts = {"acked": 0, "failed": 0}

    def report(rid, meta=None, error=None):
        with lock:
            if rid in reported:
                print(f"driver: second report for record {rid} dropped", file=sys.stderr)
                return
            reported.add(rid)
            counts["failed" if error is not None else "acked"] += 1
        if error is None:
            emit({"id": rid, "partition": meta.partition, "offset": -1 if acks_zero else meta.offset, "ms": ms()})
        else:
            emit({"id": rid, "error": error_text(error), "ms": ms()})

    def bounded_flush():
        try:
            producer.flush(timeout=grace)
        except Exception as e:  # KafkaTimeoutError: not everything reported by the deadline
            print(f"driver: flush: {error_text(e)}", file=sys.stderr)

    warm_up(producer, topic)
    _start = time.monotonic()
    emit({"event": "started", "ms": 0, "client": "kafka-python", "client_version": version})
    sent = 0
    filler = b"." * (value_size - 8)
    for rid in range(records):
        if rate is not None:
            wait = _start + rid / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        value = struct.pack(">Q", rid) + filler
        key = f"key-{rid % keys}".encode() if keys > 0 else None
        sent += 1
        try:
            future = producer.send(topic, value=value, key=key)
        except Exception as e:  # the send call itself failed
            report(rid, error=e)
        else:
            if mode != "fire-and-forget":
                future.add_callback(lambda meta, rid=rid: report(rid, meta=meta))
                future.add_errback(lambda e, rid=rid: report(rid, error=e))
            if mode == "sync":
                try:
                    future.get(timeout=grace)
                except Exception:
                    if not future.is_done:
                        print(f"driver: record {rid} not reported within {grace} s; stopping", file=sys.stderr)
                        break
        if flush_every is not None and (rid + 1) % flush_every == 0:
            bounded_flush()
            emit({"event": "flushed", "sent": sent, "ms": ms()})
    bounded_flush()
    try:
        producer.close(timeout=5)
    except Exception as e:
        print(f"driver: close: {error_text(e)}", file=sys.stderr)
    emit({"done": True, "sent": sent, "acked": counts["acked"], "failed": counts["failed"], "ms": ms(),
          "client": "kafka-python", "client_version": version})
    return 0


if __name__ == "__main__":
    sys.exit(main())
