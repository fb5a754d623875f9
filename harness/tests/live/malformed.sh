#!/bin/sh
# A driver whose second stdout line is not JSON.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
echo '{"id": 0, "partition": 0, "offset": '
echo '{"done": true, "sent": 1, "acked": 0, "failed": 0, "ms": 2, "client": "fake", "client_version": "0"}'
