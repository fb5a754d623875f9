#!/bin/sh
# A driver that reports record 3 twice.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
echo '{"id": 3, "partition": 0, "offset": 0, "ms": 1}'
echo '{"id": 3, "partition": 0, "offset": 1, "ms": 2}'
echo '{"done": true, "sent": 10, "acked": 2, "failed": 0, "ms": 3, "client": "fake", "client_version": "0"}'
