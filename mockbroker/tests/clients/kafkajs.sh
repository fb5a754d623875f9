#!/usr/bin/env bash
# kafkajs against `ktrial broker` (3 brokers): admin createTopics and listTopics, an idempotent
# producer per codec, acked offsets and the admin's latest offsets checked (node/kafkajs_client.js).
# .ci/run installs the pinned client with `npm ci` in node/.
# Usage: kafkajs.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: kafkajs.sh PATH/TO/ktrial}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/broker.sh"
start_broker "$ktrial" --brokers 3 --no-auto-create
timeout 180 node "$here/node/kafkajs_client.js" suite "$bootstrap"
