#!/usr/bin/env bash
# Tests every client driver (docs/drivers.md) against `ktrial broker`: real clients, real TCP.
#
#   drivers/test.sh KTRIAL_BIN [--drivers LIST] [--records N]
#
#   KTRIAL_BIN  the ktrial binary (e.g. target/release/ktrial); `KTRIAL_BIN broker` is the cluster
#   --drivers   comma-separated subset of: java,librdkafka,sarama,franz-go,kafka-python,kafkajs,ktrial
#   --records   records of the main workload (default 2000)
#
# Per driver: the main workload (async, 8 keys, acks=all, idempotence, lz4: one report per id, offsets
# distinct, high watermarks add up, every stored record has its id's key and value layout, per-key
# order, every Produce request idempotent), a mapping test that passes only if properties took
# effect (linger.ms=2000 → one Produce request for 20 paced records, acks=1 and no producer id; for
# kafkajs, which has no linger, acks=1 on one request per record), sync with flush_every and the
# client's defaults, fire-and-forget with acks=0, and configurations the client cannot take (a
# fatal line naming the property, exit 2). Drivers are run through drivers/bin/NAME (drivers/install.sh
# builds them). Prints 'N passed, M failed'; exits 1 on any failure. Everything it starts is
# stopped on exit.
set -euo pipefail

DRIVERS_DIR=$(cd "$(dirname "$0")" && pwd)
readonly DRIVERS_DIR
readonly ALL_DRIVERS="java,librdkafka,sarama,franz-go,kafka-python,kafkajs,ktrial"
readonly RUN_TIMEOUT_S=120

usage() { sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2; }
(($#)) || usage
ktrial=$1
shift
drivers=${ALL_DRIVERS} records=2000
while (($#)); do
    case "$1" in
    --drivers) drivers=${2:?--drivers needs a list}; shift 2 ;;
    --records) records=${2:?--records needs a number}; shift 2 ;;
    *) usage ;;
    esac
done
[[ -x "${ktrial}" ]] || { echo "test.sh: ${ktrial} is not an executable" >&2; exit 2; }
for tool in curl jq python3 timeout; do
    command -v "${tool}" >/dev/null || { echo "test.sh: needs ${tool}" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktrial-drivers.XXXXXX")
readonly WORK
broker_pid="" driver_pid=""
cleanup() {
    # The driver run in progress (timeout's process group: timeout and the driver), then the broker.
    if [[ -n "${driver_pid}" ]] && kill -0 "${driver_pid}" 2>/dev/null; then
        kill -TERM "${driver_pid}" 2>/dev/null || true
        wait "${driver_pid}" 2>/dev/null || true
    fi
    if [[ -n "${broker_pid}" ]] && kill -0 "${broker_pid}" 2>/dev/null; then
        kill -TERM "${broker_pid}" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "${broker_pid}" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "${broker_pid}" 2>/dev/null || true
        wait "${broker_pid}" 2>/dev/null || true
    fi
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "test.sh: kept ${WORK}" >&2; else rm -rf "${WORK}"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cluster: 3 brokers, every test topic created up front (replication 3) -------------------

topic_args=()
IFS=, read -r -a selected <<<"${drivers}"
for d in "${selected[@]}"; do
    [[ ",${ALL_DRIVERS}," == *",${d},"* ]] || { echo "test.sh: unknown driver ${d}" >&2; exit 2; }
    topic_args+=(--topic "${d}-workload:3:3" --topic "${d}-linger:1:3" --topic "${d}-sync:3:3" --topic "${d}-faf:3:3")
done
"${ktrial}" broker --brokers 3 --control 127.0.0.1:0 "${topic_args[@]}" >"${WORK}/broker.out" 2>"${WORK}/broker.err" &
broker_pid=$!
for _ in $(seq 100); do grep -qs '^control=' "${WORK}/broker.out" && break; sleep 0.1; done
bootstrap=$(sed -n 's/^bootstrap=//p' "${WORK}/broker.out")
control=$(sed -n 's/^control=//p' "${WORK}/broker.out")
if [[ -z "${bootstrap}" || -z "${control}" ]]; then
    echo "test.sh: no bootstrap=/control= lines from ktrial broker: $(cat "${WORK}/broker.err")" >&2
    exit 1
fi
echo "broker: bootstrap=${bootstrap} control=${control}"

# --- one run --------------------------------------------------------------------------------------

passed=0 failed=0 since=0
timings=()

# run_case DRIVER CASE KIND INPUT_JSON [check.py key=value ...]
run_case() {
    local driver=$1 name=$2 kind=$3 input=$4
    shift 4
    local dir="${WORK}/${driver}-${name}" rc=0 t0 t1
    mkdir -p "${dir}"
    jq -c --arg b "${bootstrap}" '{bootstrap_servers: $b} + .' <<<"${input}" >"${dir}/input.json"
    local topic
    topic=$(jq -r .topic "${dir}/input.json")
    t0=$(date +%s%N)
    # In the background, so that a signal to this script is handled at once (bash runs traps only
    # between foreground commands); timeout passes TERM on to the driver.
    timeout --kill-after=5 "${RUN_TIMEOUT_S}" "${DRIVERS_DIR}/bin/${driver}" <"${dir}/input.json" \
        >"${dir}/out" 2>"${dir}/err" &
    driver_pid=$!
    wait "${driver_pid}" || rc=$?
    driver_pid=""
    t1=$(date +%s%N)
    echo "${rc}" >"${dir}/rc"
    # acks=0 records may still be on their way into the log when the driver exits.
    local n
    n=$(jq .records "${dir}/input.json")
    for _ in $(seq 30); do
        curl -sf "http://${control}/v1/cluster" >"${dir}/cluster.json" || true
        [[ "$(jq --arg t "${topic}" '[.topics[$t].partitions[]?.high_watermark] | add // 0' "${dir}/cluster.json")" -ge "${n}" ]] && break
        [[ "${kind}" == fire-and-forget ]] || break
        sleep 0.1
    done
    local partitions p
    partitions=$(jq -r --arg t "${topic}" '.topics[$t].partitions[]?.partition' "${dir}/cluster.json")
    for p in ${partitions}; do
        curl -sf "http://${control}/v1/topics/${topic}/partitions/${p}/records?limit=10000" >"${dir}/records-${p}.json"
    done
    curl -sf "http://${control}/v1/journal?since=${since}" >"${dir}/journal.json"
    local last
    last=$(jq '.entries[-1].seq // empty' "${dir}/journal.json")
    [[ -n "${last}" ]] && since=$((last + 1))
    local wall_ms=$(((t1 - t0) / 1000000)) producing_ms
    producing_ms=$(jq -rs '[.[] | objects | select(.done) | .ms][0] // "-" | if type == "number" then floor else . end' \
        "${dir}/out" 2>/dev/null || echo -)
    local result
    if result=$(python3 "${DRIVERS_DIR}/check.py" "${kind}" "${dir}" "$@"); then
        passed=$((passed + 1))
        printf 'ok    %-13s %-16s %6d ms (producing %s ms)\n' "${driver}" "${name}" "${wall_ms}" "${producing_ms}"
    else
        failed=$((failed + 1))
        printf 'FAIL  %-13s %-16s %6d ms (exit %s)\n%s\n' "${driver}" "${name}" "${wall_ms}" "${rc}" "${result}"
        [[ -s "${dir}/err" ]] && sed 's/^/    stderr: /' "${dir}/err" | tail -n 5
    fi
    timings+=("${driver} ${name} ${wall_ms} ${producing_ms}")
}

# The main workload's extra properties, for what a client needs to be idempotent.
workload_extra() {
    case "$1" in
    sarama) echo '{"max.in.flight.requests.per.connection": "1"}' ;; # Sarama: idempotence needs 1 open request
    *) echo '{}' ;;
    esac
}

# A portable property the client cannot express (or, when it expresses them all, a value it
# refuses) as "NAME VALUE".
cannot_express() {
    case "$1" in
    java | kafka-python | franz-go) echo 'batch.num.messages 10' ;;
    sarama) echo 'delivery.timeout.ms 30000' ;;
    kafkajs) echo 'linger.ms 5' ;;
    librdkafka | ktrial) echo 'compression.type brotli' ;;
    esac
}

for d in "${selected[@]}"; do
    if [[ ! -x "${DRIVERS_DIR}/bin/${d}" ]]; then
        failed=$((failed + 1))
        echo "FAIL  ${d}: ${DRIVERS_DIR}/bin/${d} missing"
        continue
    fi
    props=$(jq -c '{"acks": "all", "enable.idempotence": "true", "compression.type": "lz4"} + .' <<<"$(workload_extra "${d}")")
    run_case "${d}" workload workload \
        "{\"topic\": \"${d}-workload\", \"records\": ${records}, \"keys\": 8, \"value_size\": 100, \"mode\": \"async\", \"properties\": ${props}}"
    if [[ "${d}" == kafkajs ]]; then
        run_case "${d}" acks-1 no-linger \
            "{\"topic\": \"${d}-linger\", \"records\": 20, \"keys\": 0, \"rate\": 100, \"properties\": {\"acks\": \"1\", \"enable.idempotence\": \"false\", \"linger.ms\": \"0\"}}"
    else
        run_case "${d}" linger-2000 linger \
            "{\"topic\": \"${d}-linger\", \"records\": 20, \"keys\": 0, \"rate\": 100, \"properties\": {\"acks\": \"1\", \"enable.idempotence\": \"false\", \"linger.ms\": \"2000\", \"batch.size\": \"1000000\"}}"
    fi
    run_case "${d}" sync-flush sync \
        "{\"topic\": \"${d}-sync\", \"records\": 60, \"keys\": 0, \"value_size\": 8, \"mode\": \"sync\", \"rate\": 500, \"flush_every\": 20}"
    run_case "${d}" fire-and-forget fire-and-forget \
        "{\"topic\": \"${d}-faf\", \"records\": 100, \"keys\": 4, \"mode\": \"fire-and-forget\", \"properties\": {\"acks\": \"0\", \"enable.idempotence\": \"false\"}}"
    run_case "${d}" fatal-unknown fatal \
        "{\"topic\": \"${d}-fatal\", \"records\": 10, \"properties\": {\"lingr.ms\": \"5\"}}" property=lingr.ms
    run_case "${d}" fatal-conflict fatal \
        "{\"topic\": \"${d}-fatal\", \"records\": 10, \"properties\": {\"acks\": \"0\", \"enable.idempotence\": \"true\"}}" \
        'property=acks|enable.idempotence'
    read -r property value <<<"$(cannot_express "${d}")"
    run_case "${d}" cannot-express fatal \
        "{\"topic\": \"${d}-fatal\", \"records\": 10, \"properties\": {\"${property}\": \"${value}\"}}" "property=${property}"
    run_case "${d}" fatal-native fatal \
        "{\"topic\": \"${d}-fatal\", \"records\": 10, \"native\": {\"no.such.setting\": \"1\"}}" property=no.such.setting in=native
done

echo
echo "timings (wall ms incl. runtime start; producing ms from the started line to the done line):"
printf '%s\n' "${timings[@]}" | awk '{ printf "  %-13s %-16s %6s %6s\n", $1, $2, $3, $4 }'
echo
echo "${passed} passed, ${failed} failed"
((failed == 0))
