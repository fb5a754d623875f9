#!/bin/sh
# A driver that says it handed 5 records to its client but reports record 7.
cat >/dev/null
echo '{"event": "started", "ms": 0, "client": "fake", "client_version": "0"}'
echo '{"id": 7, "partition": 0, "offset": 0, "ms": 1}'
echo '{"done": true, "sent": 5, "acked": 1, "failed": 0, "ms": 2, "client": "fake", "client_version": "0"}'
