#!/usr/bin/env bash
# A driver that starts and then waits on a child that hangs (a launcher script without `exec`):
# the child keeps the driver's stdout and stderr open after the driver itself is killed.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
bash -c 'exec -a "$0" sleep 600' "$1"
