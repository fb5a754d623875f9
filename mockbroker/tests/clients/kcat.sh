#!/usr/bin/env bash
# kcat (librdkafka) against `ktrial broker`: -L lists the brokers and topic, -P with idempotence
# writes 200 keyed records with each codec, -C -e reads every one of them back.
# Usage: kcat.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: kcat.sh PATH/TO/ktrial}
. "$(dirname "$0")/broker.sh"
start_broker "$ktrial" --brokers 3 --topic orders:6:3

timeout 60 kcat -b "$bootstrap" -L -t orders >"$work/meta"
grep -q '3 brokers' "$work/meta" || { echo "kcat -L: expected 3 brokers"; cat "$work/meta"; exit 1; }
grep -q 'topic "orders" with 6 partitions' "$work/meta" || { echo "kcat -L: no orders topic"; cat "$work/meta"; exit 1; }

expected=0
for codec in none gzip snappy lz4 zstd; do
  seq 1 200 | sed "s/.*/key-&:$codec-value-&/" >"$work/in"
  timeout 60 kcat -b "$bootstrap" -P -t orders -K: -z "$codec" -X enable.idempotence=true <"$work/in"
  expected=$((expected + 200))
done
timeout 60 kcat -b "$bootstrap" -C -t orders -e -q -f '%k:%s\n' >"$work/read"
got=$(wc -l <"$work/read")
[ "$got" -eq "$expected" ] || { echo "kcat -C read $got records, expected $expected"; exit 1; }
for codec in none gzip snappy lz4 zstd; do
  n=$(grep -c ":$codec-value-" "$work/read")
  [ "$n" -eq 200 ] || { echo "$codec: read $n of 200"; exit 1; }
done
dupes=$(sort "$work/read" | uniq -d | wc -l)
[ "$dupes" -eq 0 ] || { echo "$dupes duplicated records"; exit 1; }
echo "kcat: -L, -P (idempotent; none gzip snappy lz4 zstd) and -C -e: $got records, no duplicates"
