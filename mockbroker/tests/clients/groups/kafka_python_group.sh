#!/usr/bin/env bash
# kafka-python's group consumer against `ktrial broker` (3 brokers, no initial rebalance delay):
# commit, restart, resume from the committed offsets (kafka_python_group.py). Uses the client
# .ci/run installs into ../python/.venv.
# Usage: kafka_python_group.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: kafka_python_group.sh PATH/TO/ktrial}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/broker.sh"
start_broker "$ktrial" --brokers 3 --topic py-events:3:1 --group-initial-rebalance-delay-ms 0
timeout 180 "$here/python/.venv/bin/python" "$here/groups/kafka_python_group.py" "$bootstrap"
