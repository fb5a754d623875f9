#!/usr/bin/env bash
# kafka-python against `ktrial broker` (3 brokers, `orders` with 6 partitions × 3 replicas): an
# idempotent producer per codec, then a consumer with assigned partitions reading everything back
# exactly once and in order (python/kafka_python_client.py). .ci/run installs the pinned client
# into python/.venv from python/requirements.txt.
# Usage: kafka_python.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: kafka_python.sh PATH/TO/ktrial}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/broker.sh"
start_broker "$ktrial" --brokers 3 --topic orders:6:3
timeout 180 "$here/python/.venv/bin/python" "$here/python/kafka_python_client.py" suite "$bootstrap"
