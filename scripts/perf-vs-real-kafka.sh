#!/usr/bin/env bash
# Producer throughput against one real Kafka broker, side by side in one run (issue 8, must-show):
# `ktrial perf produce`, librdkafka's producer (rust-rdkafka BaseProducer, the `rdkafka_perf`
# example) and the Java client's org.apache.kafka.tools.ProducerPerformance, with the same
# settings: unkeyed records of --record-size bytes, acks=1, no compression, a fresh topic of
# --partitions partitions per run. Two settings: each client's own linger/batch defaults, then
# matched (linger.ms=5, batch.size=262144 for all three). The tools take turns (the first tool
# rotates every round), so machine noise hits them alike; an unreported run warms the broker up
# first. A benchmark, not a test: CI does not run it.
#
#   scripts/perf-vs-real-kafka.sh [--records N] [--record-size S] [--rounds R] [--partitions P]
#
# Builds the release `ktrial` binary and the `rdkafka_perf` example (CARGO_TARGET_DIR is honoured),
# starts Kafka with scripts/real-kafka.sh (stopped on exit, even on failure), prints one line per
# run and then a Markdown table: best and median records/s per client and setting, and the ratios
# of ktrial to librdkafka and to Java. Raw results (TSV) go to $KTRIAL_PERF_OUT if set.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly ROOT
readonly KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
readonly LIBS_DIR="${KTRIAL_CACHE:-$HOME/.cache/ktrial}/kafka-${KAFKA_VERSION}/libs"
readonly TOOLS=(ktrial librdkafka java)
readonly MATCHED_LINGER_MS=5
readonly MATCHED_BATCH_SIZE=262144

records=1000000
record_size=100
rounds=3
partitions=8
while (($#)); do
    case "$1" in
    --records) records=${2:?}; shift 2 ;;
    --record-size) record_size=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --partitions) partitions=${2:?}; shift 2 ;;
    *) sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done

log() { printf 'perf-vs-real-kafka: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

log "building the release ktrial binary and the rdkafka_perf example"
(cd "${ROOT}" && cargo build --release --quiet --bin ktrial &&
    cargo build --release --quiet -p ktrial-producer --example rdkafka_perf) || die "cargo build failed"
target="${CARGO_TARGET_DIR:-${ROOT}/target}"
readonly KTRIAL="${target}/release/ktrial"
readonly RDKAFKA_PERF="${target}/release/examples/rdkafka_perf"

"${ROOT}/scripts/real-kafka.sh" fetch
work=$(mktemp -d "${TMPDIR:-/tmp}/ktrial-perf-vs-real-kafka.XXXXXX")
readonly work
cleanup() {
    "${ROOT}/scripts/real-kafka.sh" stop --state-dir "${work}/kafka" || true
    rm -rf "${work}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bootstrap=$("${ROOT}/scripts/real-kafka.sh" start --state-dir "${work}/kafka" --watch-pid $$ |
    sed -n 's/^bootstrap=//p')
[[ -n "${bootstrap}" ]] || die "real Kafka did not start"
readonly bootstrap

java_tool() { java -Xmx1g -cp "${LIBS_DIR}/*" "$@"; }

create_topic() { # name
    local topic=$1
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "${bootstrap}" --create \
        --topic "${topic}" --partitions "${partitions}" --replication-factor 1 >"${work}/topic.log" 2>&1 ||
        { cat "${work}/topic.log" >&2; die "could not create ${topic}"; }
}

# Runs one tool with one setting on a fresh topic; prints its records/s, or fails.
run_tool() { # tool setting round
    local tool=$1 setting=$2 topic="perf-$2-$3-$1" out="${work}/perf-$2-$3-$1.log"
    create_topic "${topic}"
    case "${tool}/${setting}" in
    ktrial/*)
        local matched=()
        [[ ${setting} == matched ]] && matched=(--linger-ms "${MATCHED_LINGER_MS}" --batch-size "${MATCHED_BATCH_SIZE}")
        "${KTRIAL}" perf produce --bootstrap "${bootstrap}" --topic "${topic}" --records "${records}" \
            --record-size "${record_size}" --acks 1 --progress-secs 3600 --json "${matched[@]}" >"${out}" 2>&1 ||
            { tail -n 20 "${out}" >&2; die "ktrial perf failed"; }
        sed -n 's/.*"records_per_sec":\([0-9.]*\).*/\1/p' "${out}" | tail -n 1
        ;;
    librdkafka/*)
        local matched=()
        [[ ${setting} == matched ]] && matched=(--set "linger.ms=${MATCHED_LINGER_MS}" --set "batch.size=${MATCHED_BATCH_SIZE}")
        "${RDKAFKA_PERF}" --bootstrap "${bootstrap}" --topic "${topic}" --records "${records}" \
            --record-size "${record_size}" --set acks=1 --json "${matched[@]}" >"${out}" 2>&1 ||
            { tail -n 20 "${out}" >&2; die "rdkafka_perf failed"; }
        sed -n 's/.*"records_per_sec":\([0-9.]*\).*/\1/p' "${out}" | tail -n 1
        ;;
    java/*)
        local matched=()
        [[ ${setting} == matched ]] && matched=("linger.ms=${MATCHED_LINGER_MS}" "batch.size=${MATCHED_BATCH_SIZE}")
        java_tool org.apache.kafka.tools.ProducerPerformance --topic "${topic}" --num-records "${records}" \
            --record-size "${record_size}" --throughput -1 \
            --producer-props "bootstrap.servers=${bootstrap}" acks=1 "${matched[@]}" >"${out}" 2>&1 ||
            { tail -n 20 "${out}" >&2; die "ProducerPerformance failed"; }
        # The summary line: "N records sent, R records/sec (M MB/sec), ...".
        grep -E "^${records} records sent" "${out}" | tail -n 1 | sed -n 's/.*sent, \([0-9.]*\) records\/sec.*/\1/p'
        ;;
    esac
}

# A fresh broker is slower until its JIT has warmed up: one unreported run first, so that the
# first measured tool is not penalised.
log "warming the broker up ($((records / 5)) records, not reported)"
records=$((records / 5)) run_tool librdkafka defaults 0 >/dev/null

results="${work}/results.tsv"
printf 'setting\tround\ttool\trecords_per_sec\tload1\n' >"${results}"
for setting in defaults matched; do
    for ((round = 1; round <= rounds; round++)); do
        for ((i = 0; i < ${#TOOLS[@]}; i++)); do
            tool=${TOOLS[$(((round - 1 + i) % ${#TOOLS[@]}))]}
            load=$(cut -d' ' -f1 /proc/loadavg)
            rate=$(run_tool "${tool}" "${setting}" "${round}")
            [[ -n "${rate}" ]] || die "${tool} printed no records/s"
            printf '%s\t%s\t%s\t%s\t%s\n' "${setting}" "${round}" "${tool}" "${rate}" "${load}" >>"${results}"
            log "${setting} round ${round}: ${tool} ${rate} records/s (load ${load} before)"
        done
    done
done
[[ -z "${KTRIAL_PERF_OUT:-}" ]] || cp "${results}" "${KTRIAL_PERF_OUT}"

echo
echo "Kafka ${KAFKA_VERSION} (1 broker, ${partitions} partitions), ${records} records of ${record_size} bytes, acks=1, $(date -u +%F)"
echo
echo "| settings | client | best records/s | median records/s | ktrial ÷ this (best) | ktrial ÷ this (median) |"
echo "|---|---|---|---|---|---|"
awk -F'\t' -v tools="${TOOLS[*]}" '
    NR > 1 { rates[$1 "/" $3] = rates[$1 "/" $3] " " $4 }
    function commas(n,   s) {
        s = sprintf("%.0f", n)
        while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
        return s
    }
    function stats(list, out,   n, v, i, j, t) {
        n = split(list, v, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
        out["best"] = v[n]; out["median"] = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
        split(tools, names, " ")
        split("defaults matched", settings, " ")
        for (s = 1; s <= 2; s++) {
            stats(rates[settings[s] "/ktrial"], k)
            for (t = 1; t <= 3; t++) {
                stats(rates[settings[s] "/" names[t]], x)
                printf "| %s | %s | %s | %s | %.2f | %.2f |\n", settings[s], names[t], commas(x["best"]), commas(x["median"]), k["best"] / x["best"], k["median"] / x["median"]
            }
        }
    }' "${results}"
