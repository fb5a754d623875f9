#!/usr/bin/env bash
# The control API of `ktrial broker --control` driven by curl, with kcat producing: add a rule
# (Produce answered NOT_LEADER_OR_FOLLOWER once), see it fire in the journal while kcat still
# delivers, delete it, see it gone; a bad rule gets HTTP 400 naming the field and adds nothing.
# Needs curl, jq and kcat. Usage: control_api.sh PATH/TO/ktrial
set -euo pipefail
ktrial=${1:?usage: control_api.sh PATH/TO/ktrial}
. "$(dirname "$0")/clients/broker.sh"
start_broker "$ktrial" --brokers 1 --topic orders:1:1 --control 127.0.0.1:0
for _ in $(seq 50); do grep -q '^control=' "$work/out" && break; sleep 0.1; done
control=$(sed -n 's/^control=//p' "$work/out")
[ -n "$control" ] || { echo "no control line from ktrial broker"; cat "$work/out" "$work/log"; exit 1; }
api="http://$control/v1"

fail() { echo "control API: $*"; exit 1; }
# curl_json METHOD PATH [BODY]: prints the body, then the HTTP status on the last line.
curl_json() {
  timeout 10 curl -sS -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} \
    -w '\n%{http_code}' "$api$2"
}
status() { tail -n1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }

answer=$(curl_json POST /faults \
  '{"when": {"api": "Produce", "topic": "orders"}, "do": {"error": {"code": "NOT_LEADER_OR_FOLLOWER"}}, "limit": "once"}')
[ "$(status "$answer")" = 201 ] || fail "POST /faults: $answer"
id=$(body "$answer" | jq -e .id) || fail "no id in $(body "$answer")"

printf 'k1:v1\nk2:v2\nk3:v3\n' | timeout 60 kcat -b "$bootstrap" -P -t orders -K: -X retry.backoff.ms=50
timeout 60 kcat -b "$bootstrap" -C -t orders -e -q -f '%s\n' >"$work/read"
[ "$(wc -l <"$work/read")" -eq 3 ] || fail "kcat read back $(wc -l <"$work/read") of 3 records"

answer=$(curl_json GET '/journal?since=0')
[ "$(status "$answer")" = 200 ] || fail "GET /journal: $answer"
journal=$(body "$answer")
# The rule fired once, and that Produce was answered with its error on the same connection.
fired=$(jq -c --argjson id "$id" '[.entries[] | select(.what.type == "fault" and .what.rule == $id)]' <<<"$journal")
[ "$(jq length <<<"$fired")" -eq 1 ] || fail "rule $id fired $(jq length <<<"$fired") times: $journal"
[ "$(jq -r '.[0].what.action.error.code' <<<"$fired")" = NOT_LEADER_OR_FOLLOWER ] || fail "wrong action: $fired"
connection=$(jq '.[0].connection' <<<"$fired")
correlation=$(jq '.[0].correlation_id' <<<"$fired")
jq -e --argjson c "$connection" --argjson k "$correlation" \
  'any(.entries[]; .connection == $c and .correlation_id == $k and .what.type == "response"
       and (.what.summary | contains("orders-0 NOT_LEADER_OR_FOLLOWER")))' <<<"$journal" >/dev/null \
  || fail "the faulted Produce was not answered NOT_LEADER_OR_FOLLOWER: $journal"

answer=$(curl_json GET /faults)
[ "$(body "$answer" | jq --argjson id "$id" '[.rules[] | select(.id == $id)][0].fired')" = 1 ] \
  || fail "rule $id should be listed as fired once: $answer"
[ "$(status "$(curl_json DELETE "/faults/$id")")" = 204 ] || fail "DELETE /faults/$id"
answer=$(curl_json GET /faults)
[ "$(body "$answer" | jq -c .rules)" = '[]' ] || fail "rule $id still listed: $answer"
[ "$(status "$(curl_json DELETE "/faults/$id")")" = 404 ] || fail "a second DELETE /faults/$id is not 404"

# refused BODY FIELD: HTTP 400 whose JSON error names FIELD.
refused() {
  local answer
  answer=$(curl_json POST /faults "$1")
  [ "$(status "$answer")" = 400 ] || fail "not refused: $1 => $answer"
  [ "$(body "$answer" | jq -r .field)" = "$2" ] || fail "400 does not name $2: $answer"
}
refused '{"when": {"api": "Produce", "topic": "orders", "partition": 5}, "do": "drop"}' when.partition
refused '{"when": {"api": "Produce"}, "do": {"error": {"code": "NOT_A_CODE"}}}' do.error.code
refused '{"when": {"api": "Produc"}, "do": "drop"}' when.api
[ "$(body "$(curl_json GET /faults)" | jq -c .rules)" = '[]' ] || fail "a refused rule was added"

echo "control API: rule $id added, fired once in the journal (kcat delivered 3 records), deleted; bad rules refused with 400 naming the field"
