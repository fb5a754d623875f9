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

produce 1 300
consume "$work/first"
sort "$work/first" >"$work/first.sorted"
seq 1 300 | sed 's/^/v-/' | sort >"$work/expected"
cmp -s "$work/first.sorted" "$work/expected" || {
  echo "kcat -G: first run read $(wc -l <"$work/first") records, expected v-1..v-300 once each"
  exit 1
}

produce 301 350
consume "$work/second"
sort "$work/second" >"$work/second.sorted"
seq 301 350 | sed 's/^/v-/' | sort >"$work/expected"
cmp -s "$work/second.sorted" "$work/expected" || {
  echo "kcat -G: second run read $(wc -l <"$work/second") records, expected only v-301..v-350"
  head "$work/second"
  exit 1
}
echo "kcat -G: 300 records to the end, then resumed from the committed offsets for 50 more"
