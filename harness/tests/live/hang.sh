#!/usr/bin/env bash
# A driver that starts and then hangs: the harness must kill it. The process is named after $1,
# so that the test can tell whether it is still there.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
exec -a "$1" sleep 600
