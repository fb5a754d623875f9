#!/usr/bin/env bash
# kcat's balanced consumer (-G, librdkafka's group consumer) against `ktrial broker`: it reads a
# 3-partition topic to its end, commits, and a second run of the same group reads only what was
# written since.
# Usage: kcat_group.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: kcat_group.sh PATH/TO/ktrial}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/broker.sh"
start_broker "$ktrial" --brokers 3 --topic events:3:1

produce() { # produce FIRST LAST: values v-FIRST..v-LAST, keyed so that they spread
  seq "$1" "$2" | sed 's/.*/k&:v-&/' | kcat -b "$bootstrap" -P -t events -K:
}
consume() { # consume OUT: the group reads to the end of every partition it is assigned
  timeout 60 kcat -b "$bootstrap" -G kcat-group -X auto.offset.reset=earliest \
    -X session.timeout.ms=6000 -e -q -f '%s\n' events >"$1"
}

expect_once() { # expect_once FILE FIRST LAST: FILE holds exactly v-FIRST..v-LAST, once each
  sort "$1" >"$1.sorted"
  seq "$2" "$3" | sed 's/^/v-/' | sort >"$work/expected"
  cmp -s "$1.sorted" "$work/expected" || {
    echo "kcat -G: read $(wc -l <"$1") records, expected v-$2..v-$3 once each"
    head "$1"
    exit 1
  }
}

produce 1 300
consume "$work/first"
expect_once "$work/first" 1 300
# A second run of the group resumes from what the first one committed.
produce 301 350
consume "$work/second"
expect_once "$work/second" 301 350
echo "kcat -G: 300 records to the end, then resumed from the committed offsets for 50 more"
