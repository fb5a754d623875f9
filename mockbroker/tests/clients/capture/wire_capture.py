"""Captures one real Produce request frame per client and codec into fixtures/wire/.

    wire_capture.py KTRIAL RDKAFKA_CLIENT [--out DIR] [--only CLIENT]

For every (client, codec) below: a fresh `ktrial broker --brokers 1 --topic wire:1:1`, a recording
proxy in front of it, and the client run through the proxy to write 5 records `key-<i>` =
`<client>-<codec>-<i>` (i = 1..5) to partition 0 of `wire`, idempotent, in one batch. The first
Produce request frame the proxy sees (without its 4-byte size prefix) is saved as
`DIR/<client>-<codec>.bin`; protocol/tests/wire_captures.rs decodes them.

The proxy keeps clients on it after bootstrap by rewriting the broker's advertised port to its
own in every response (the 4 port bytes right after the host bytes, in Metadata, FindCoordinator
and DescribeCluster alike): same length, so no size field changes, and the broker is untouched.

RDKAFKA_CLIENT is the rust-rdkafka program (`cargo build --release --example rdkafka-client
-p ktrial-mockbroker`). Clients are expected installed as .ci/run installs them.
"""

import argparse
import asyncio
import os
import struct
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS_DIR = os.path.dirname(HERE)
TOPIC = "wire"
COUNT = 5
CLIENT_TIMEOUT_S = 60
PRODUCE_API_KEY = 0

# client -> codecs it can write (kafkajs: none and gzip built in, snappy through kafkajs-snappy).
CODECS = {
    "kcat": ["none", "gzip", "snappy", "lz4", "zstd"],
    "kafka-python": ["none", "gzip", "snappy", "lz4", "zstd"],
    "kafkajs": ["none", "gzip", "snappy"],
    "rust-rdkafka": ["none", "gzip", "snappy", "lz4", "zstd"],
}


def client_command(client, rdkafka_client, bootstrap, codec):
    """The command line, and its stdin, that makes `client` write the capture records."""
    if client == "kcat":
        lines = "".join(f"key-{i}:kcat-{codec}-{i}\n" for i in range(1, COUNT + 1))
        command = ["kcat", "-b", bootstrap, "-P", "-t", TOPIC, "-p", "0", "-K:", "-z", codec,
                   "-X", "enable.idempotence=true", "-X", "linger.ms=200"]
        return command, lines
    args = ["capture", bootstrap, codec, TOPIC, str(COUNT)]
    if client == "kafka-python":
        python = os.path.join(CLIENTS_DIR, "python", ".venv", "bin", "python")
        return [python, os.path.join(CLIENTS_DIR, "python", "kafka_python_client.py")] + args, ""
    if client == "kafkajs":
        return ["node", os.path.join(CLIENTS_DIR, "node", "kafkajs_client.js")] + args, ""
    return [rdkafka_client] + args, ""


class RecordingProxy:
    """Forwards frames between clients and one broker; keeps the first Produce request frame."""

    def __init__(self, host, broker_port):
        self.host = host
        self.broker_port = broker_port
        self.produce_frame = None
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self.connection, host, 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.broker_address = host.encode() + struct.pack(">i", broker_port)
        self.own_address = host.encode() + struct.pack(">i", self.port)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def connection(self, client_reader, client_writer):
        broker_reader, broker_writer = await asyncio.open_connection(self.host, self.broker_port)
        await asyncio.gather(
            self.pump(client_reader, broker_writer, self.record_request),
            self.pump(broker_reader, client_writer, self.rewrite_response),
            return_exceptions=True,
        )
        client_writer.close()
        broker_writer.close()

    @staticmethod
    async def pump(reader, writer, on_frame):
        try:
            while True:
                size = await reader.readexactly(4)
                frame = await reader.readexactly(struct.unpack(">i", size)[0])
                writer.write(size + on_frame(frame))
                await writer.drain()
        finally:
            writer.close()

    def record_request(self, frame):
        api_key = struct.unpack(">h", frame[:2])[0]
        if api_key == PRODUCE_API_KEY and self.produce_frame is None:
            self.produce_frame = bytes(frame)
        return frame

    def rewrite_response(self, frame):
        return frame.replace(self.broker_address, self.own_address)


def start_broker(ktrial):
    process = subprocess.Popen(
        [ktrial, "broker", "--brokers", "1", "--topic", f"{TOPIC}:1:1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("bootstrap="):
        process.kill()
        sys.exit(f"no bootstrap line from ktrial broker: {line!r}")
    host, port = line.removeprefix("bootstrap=").rsplit(":", 1)
    return process, host, int(port)


def capture_one(ktrial, rdkafka_client, client, codec):
    broker, host, port = start_broker(ktrial)
    proxy = RecordingProxy(host, port)
    try:
        command, stdin = client_command(client, rdkafka_client, f"{host}:{proxy.port}", codec)
        with tempfile.TemporaryFile() as log:
            done = subprocess.run(command, input=stdin.encode(), stdout=log, stderr=log,
                                  timeout=CLIENT_TIMEOUT_S, check=False)
            if done.returncode != 0:
                log.seek(0)
                sys.exit(f"{client} {codec} exited with {done.returncode}:\n{log.read().decode()}")
        if proxy.produce_frame is None:
            sys.exit(f"{client} {codec}: no Produce request went through the proxy")
        return proxy.produce_frame
    finally:
        proxy.close()
        broker.terminate()
        broker.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ktrial")
    parser.add_argument("rdkafka_client")
    parser.add_argument("--out", default=os.path.normpath(os.path.join(CLIENTS_DIR, "../../../fixtures/wire")))
    parser.add_argument("--only", choices=sorted(CODECS))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for client, codecs in CODECS.items():
        if args.only and client != args.only:
            continue
        for codec in codecs:
            frame = capture_one(args.ktrial, args.rdkafka_client, client, codec)
            path = os.path.join(args.out, f"{client}-{codec}.bin")
            with open(path, "wb") as out:
                out.write(frame)
            version = struct.unpack(">h", frame[2:4])[0]
            print(f"{path}: Produce v{version}, {len(frame)} bytes")


if __name__ == "__main__":
    main()
