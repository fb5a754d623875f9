#!/bin/sh
# A driver that cannot express linger.ms: one fatal line, status 2.
cat >/dev/null
echo '{"fatal": "linger.ms: this client has no linger", "property": "linger.ms", "in": "properties"}'
exit 2
