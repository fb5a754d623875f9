#!/bin/sh
# A driver that reports a record the workload never had.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
echo '{"id": 1000000, "partition": 0, "offset": 0, "ms": 1}'
echo '{"done": true, "sent": 10, "acked": 1, "failed": 0, "ms": 2, "client": "fake", "client_version": "0"}'
