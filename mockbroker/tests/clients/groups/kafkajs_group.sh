#!/usr/bin/env bash
# kafkajs consumer group against `ktrial broker` (3 brokers): two consumers share 6 partitions,
# one leaves, the other takes them all (kafkajs_group.js). Uses the client .ci/run installs
# into ../node/node_modules.
# Usage: kafkajs_group.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: kafkajs_group.sh PATH/TO/ktrial}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/broker.sh"
start_broker "$ktrial" --brokers 3
timeout 180 node "$here/groups/kafkajs_group.js" "$bootstrap"
