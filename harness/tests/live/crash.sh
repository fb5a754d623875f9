#!/bin/sh
# A driver that reads its workload, starts, and crashes with status 3 before its final line.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
echo '{"id": 0, "partition": 0, "offset": 0, "ms": 1.5}'
echo 'fake driver: crashing' >&2
exit 3
