#!/usr/bin/env bash
# The cross-client compatibility matrix (issue 8, item 4): every client program under compat/ against
# every broker, every check; results in compat/results/results.jsonl and the table in
# COMPATIBILITY.md. See compat/README.md.
#
#   compat/run.sh [--install] [--clients LIST] [--brokers LIST] [--records N]
#
#   --install   install and build the clients first (apt kcat, pip, npm, Go modules, Maven, cargo)
#   --clients   comma-separated subset of: java,kcat,rust-rdkafka,kafka-python,kafkajs,franz-go,sarama
#   --brokers   comma-separated subset of: real-kafka,rdkafka-mock,ktrial
#   --records   records per check (default 1000)
#
# Exit status: 1 when a cell fails against real Kafka or librdkafka's mock cluster that is not
# listed in compat/known-incompatibilities.tsv (a client-program bug, or a new incompatibility);
# failures against `ktrial broker` are reported in the table but do not fail the run yet.
set -euo pipefail

COMPAT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "${COMPAT_DIR}")
readonly COMPAT_DIR ROOT
readonly ALL_CLIENTS="java,kcat,rust-rdkafka,kafka-python,kafkajs,franz-go,sarama"
readonly ALL_BROKERS="real-kafka,rdkafka-mock,ktrial"
readonly CODECS="none gzip snappy lz4 zstd"
# Every client bounds its own work to 30 s per check; this is the hard stop around one program run.
readonly PROGRAM_TIMEOUT_S=90
readonly BROKER_START_TIMEOUT_S=180
readonly INSTALL_TIMEOUT_S=900
TARGET_DIR=${CARGO_TARGET_DIR:-${ROOT}/target}
readonly TARGET_DIR
RESULTS_DIR="${COMPAT_DIR}/results"

log() { printf 'compat: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

install=0 clients=${ALL_CLIENTS} brokers=${ALL_BROKERS}
export COMPAT_RECORDS=${COMPAT_RECORDS:-1000}
while (($#)); do
    case "$1" in
    --install) install=1; shift ;;
    --clients) clients=${2:?--clients needs a list}; shift 2 ;;
    --brokers) brokers=${2:?--brokers needs a list}; shift 2 ;;
    --records) COMPAT_RECORDS=${2:?--records needs a number}; shift 2 ;;
    *) sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done

# --- processes this script started, ended on every exit -------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktrial-compat.XXXXXX")
readonly WORK
broker_pid=""

stop_broker() {
    if [[ -n "${broker_pid}" ]] && kill -0 "${broker_pid}" 2>/dev/null; then
        kill -TERM "${broker_pid}" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "${broker_pid}" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "${broker_pid}" 2>/dev/null || true
        wait "${broker_pid}" 2>/dev/null || true
    fi
    broker_pid=""
    if [[ -d "${WORK}/real-kafka" ]]; then
        "${ROOT}/scripts/real-kafka.sh" stop --state-dir "${WORK}/real-kafka" || true
    fi
}

cleanup() {
    stop_broker
    rm -rf "${WORK}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- clients -------------------------------------------------------------------------------------

# How each client program is run: `$(client_command NAME) BOOTSTRAP PREFIX CODEC MODE`.
client_command() {
    case "$1" in
    java) echo "java -cp ${COMPAT_DIR}/java/target/classes:${COMPAT_DIR}/java/target/libs/* Compat" ;;
    kcat) echo "${COMPAT_DIR}/kcat/compat.sh" ;;
    rust-rdkafka) echo "${TARGET_DIR}/debug/rdkafka-client" ;;
    kafka-python) echo "${COMPAT_DIR}/python/.venv/bin/python ${COMPAT_DIR}/python/compat.py" ;;
    kafkajs) echo "node ${COMPAT_DIR}/node/compat.js" ;;
    franz-go) echo "${COMPAT_DIR}/go/bin/franz-go" ;;
    sarama) echo "${COMPAT_DIR}/go/bin/sarama" ;;
    *) die "unknown client $1" ;;
    esac
}

# Installs or builds one client at the pinned versions (compat/README.md lists them); every step is
# bounded by INSTALL_TIMEOUT_S.
install_client() {
    local bounded="timeout ${INSTALL_TIMEOUT_S}"
    case "$1" in
    java)
        (cd "${COMPAT_DIR}/java" && ${bounded} mvn -B -q compile \
            org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory=target/libs) ;;
    kcat) command -v kcat >/dev/null || DEBIAN_FRONTEND=noninteractive ${bounded} apt-get install -y -qq kcat ;;
    rust-rdkafka)
        # Dev profile: the Rust side is small, and librdkafka's C build is optimised either way.
        ${bounded} cargo build -q --manifest-path "${COMPAT_DIR}/rust/Cargo.toml" --target-dir "${TARGET_DIR}" ;;
    kafka-python)
        [[ -x "${COMPAT_DIR}/python/.venv/bin/python" ]] || ${bounded} python3 -m venv "${COMPAT_DIR}/python/.venv"
        ${bounded} "${COMPAT_DIR}/python/.venv/bin/pip" install -q -r "${COMPAT_DIR}/python/requirements.txt" ;;
    kafkajs) (cd "${COMPAT_DIR}/node" && ${bounded} npm ci --no-audit --no-fund --silent) ;;
    franz-go | sarama) (cd "${COMPAT_DIR}/go" && ${bounded} go build -o bin/ "./cmd/$1") ;;
    esac
}

# --- brokers -------------------------------------------------------------------------------------

# Waits for "bootstrap=..." in file $1 written by process $2; prints the address.
await_bootstrap() {
    local deadline=$((SECONDS + BROKER_START_TIMEOUT_S)) line
    while ((SECONDS < deadline)); do
        line=$(sed -n 's/^bootstrap=//p' "$1" 2>/dev/null | head -n 1)
        [[ -n "${line}" ]] && { echo "${line}"; return 0; }
        kill -0 "$2" 2>/dev/null || { log "broker exited: $(tail -n 5 "$1" "$1.err" 2>/dev/null)"; return 1; }
        sleep 0.2
    done
    log "no bootstrap line within ${BROKER_START_TIMEOUT_S} s"
    return 1
}

# Release, as .ci/run's other suites against ktrial broker build it: one build serves both.
ktrial_binary() { echo "${TARGET_DIR}/release/ktrial"; }

# True when the ktrial command builds and has a broker subcommand (the mock broker is being
# written); otherwise prints why not.
ktrial_broker_available() {
    if ! timeout "${INSTALL_TIMEOUT_S}" cargo build -q --release --bin ktrial \
        --manifest-path "${ROOT}/Cargo.toml" --target-dir "${TARGET_DIR}" >&2; then
        echo "ktrial did not build from this checkout"
        return 1
    fi
    timeout 10 "$(ktrial_binary)" broker --help >/dev/null 2>&1 || {
        echo "no 'ktrial broker' subcommand"
        return 1
    }
}

# Starts broker $1; prints its bootstrap address. Versions go to ${WORK}/broker-version; each
# broker's output has its own file, so that an address from the previous broker is never read.
start_broker() {
    case "$1" in
    real-kafka)
        echo "Apache Kafka ${KAFKA_VERSION:-4.3.1} (1 node, KRaft)" >"${WORK}/broker-version"
        timeout "${BROKER_START_TIMEOUT_S}" "${ROOT}/scripts/real-kafka.sh" start \
            --state-dir "${WORK}/real-kafka" --watch-pid $$ | sed -n 's/^bootstrap=//p' ;;
    rdkafka-mock)
        echo "librdkafka mock cluster (rust-rdkafka 0.39.0, librdkafka 2.12.1; 3 brokers)" >"${WORK}/broker-version"
        "${TARGET_DIR}/debug/rdkafka-mock-cluster" --brokers 3 >"${WORK}/$1.out" 2>"${WORK}/$1.out.err" &
        broker_pid=$!
        await_bootstrap "${WORK}/$1.out" "${broker_pid}" ;;
    ktrial)
        echo "ktrial broker (built from $(git -C "${ROOT}" describe --always --dirty))" >"${WORK}/broker-version"
        "$(ktrial_binary)" broker --port 0 >"${WORK}/$1.out" 2>"${WORK}/$1.out.err" &
        broker_pid=$!
        await_bootstrap "${WORK}/$1.out" "${broker_pid}" ;;
    esac
}

# --- one program run ----------------------------------------------------------------------------

# A result line in the clients' format, for a check that a program could not report itself.
fail_line() { # client check codec mode detail
    jq -cn --arg client "$1" --arg check "$2" --arg codec "$3" --arg mode "$4" --arg detail "$5" \
        '{client:$client,client_version:"",check:$check,codec:$codec,idempotent:($mode == "idempotent"),
          result:"fail",records:0,ms:0,detail:$detail}'
}

# Runs client $1 against broker $2 at $3 with codec $4 in mode $5; appends its JSON lines, with the
# broker added, to the results. A program that dies or times out without a line for a check gets a
# "fail" line saying so.
run_program() {
    local client=$1 broker=$2 bootstrap=$3 codec=$4 mode=$5 status=0 prefix
    prefix="compat-${client}-$(date +%s)"
    # shellcheck disable=SC2046 # the command is a word list on purpose
    timeout --kill-after=5 "${PROGRAM_TIMEOUT_S}" $(client_command "${client}") \
        "${bootstrap}" "${prefix}" "${codec}" "${mode}" >"${WORK}/raw" 2>"${WORK}/err" || status=$?
    # Only JSON objects count; anything else a program prints is ignored.
    jq -cR 'fromjson? | select(type == "object")' "${WORK}/raw" >"${WORK}/out"
    local check why
    for check in produce consume; do
        if ! jq -se --arg check "${check}" 'any(.[]; .check == $check)' "${WORK}/out" >/dev/null 2>&1; then
            why="exited with status ${status} without a result"
            ((status == 124 || status == 137)) && why="killed after ${PROGRAM_TIMEOUT_S} s"
            why+=": $(tail -n 2 "${WORK}/err")"
            fail_line "${client}" "${check}" "${codec}" "${mode}" "${why}" >>"${WORK}/out"
        fi
    done
    jq -c --arg broker "${broker}" --arg broker_version "$(<"${WORK}/broker-version")" \
        '. + {broker:$broker, broker_version:$broker_version}' "${WORK}/out" >>"${RESULTS_DIR}/results.jsonl"
    jq -r 'select(.result == "fail") | "compat:   \(.check) \(.codec)\(if .idempotent then " idempotent" else "" end) failed: \(.detail)"' "${WORK}/out" >&2
}

# --- main -----------------------------------------------------------------------------------------

command -v jq >/dev/null || die "jq not found (apt-get install jq)"
started=${SECONDS}
IFS=, read -ra client_list <<<"${clients}"
IFS=, read -ra broker_list <<<"${brokers}"
declare -A installed=()
need_rust=0
for client in "${client_list[@]}"; do
    client_command "${client}" >/dev/null
    [[ "${client}" == rust-rdkafka ]] && need_rust=1
    if ((install)); then
        log "installing ${client}"
        if install_client "${client}" >&2; then
            installed[${client}]=1
        else
            log "installing ${client} failed; its cells are marked fail"
        fi
    else
        installed[${client}]=1
    fi
done
if [[ ",${brokers}," == *,rdkafka-mock,* && ${need_rust} == 0 && ${install} == 1 ]]; then
    install_client rust-rdkafka || die "cannot build the librdkafka mock cluster"
fi

mkdir -p "${RESULTS_DIR}"
: >"${RESULTS_DIR}/results.jsonl"
: >"${RESULTS_DIR}/brokers.jsonl"
for broker in "${broker_list[@]}"; do
    if [[ "${broker}" == ktrial ]] && ! why=$(ktrial_broker_available); then
        log "ktrial broker: not available (${why})"
        jq -cn --arg why "${why}" '{broker:"ktrial",broker_version:"ktrial broker",available:false,why:$why}' \
            >>"${RESULTS_DIR}/brokers.jsonl"
        continue
    fi
    log "starting ${broker}"
    # Not in a subshell: start_broker records the pid it starts. A second attempt, because a
    # start can fail for reasons outside the broker (a JVM killed on a busy shared machine).
    attempt=1
    until start_broker "${broker}" >"${WORK}/bootstrap" && [[ -s "${WORK}/bootstrap" ]]; do
        stop_broker
        ((attempt++ < 2)) || die "${broker} did not start"
        log "${broker} did not start; trying once more"
    done
    bootstrap=$(<"${WORK}/bootstrap")
    jq -cn --arg broker "${broker}" --arg version "$(<"${WORK}/broker-version")" --arg bootstrap "${bootstrap}" \
        '{broker:$broker,broker_version:$version,available:true,bootstrap:$bootstrap}' >>"${RESULTS_DIR}/brokers.jsonl"
    for client in "${client_list[@]}"; do
        if [[ -z "${installed[${client}]:-}" ]]; then
            for codec in ${CODECS}; do
                for check in produce consume; do
                    fail_line "${client}" "${check}" "${codec}" plain "client not installed"
                done
            done | jq -c --arg broker "${broker}" '. + {broker:$broker}' >>"${RESULTS_DIR}/results.jsonl"
            continue
        fi
        log "${client} × ${broker} (${bootstrap})"
        run_program "${client}" "${broker}" "${bootstrap}" none plain
        cp "${WORK}/out" "${WORK}/first"
        for run in "none idempotent" "gzip plain" "snappy plain" "lz4 plain" "zstd plain"; do
            # When the plain produce fails, the others would fail the same way after their full
            # deadline each: they are recorded as failed without running.
            if jq -se 'any(.[]; .check == "produce" and .result == "fail")' "${WORK}/first" >/dev/null; then
                for check in produce consume; do
                    fail_line "${client}" "${check}" ${run} "not run: the plain produce failed"
                done | jq -c --arg broker "${broker}" --arg broker_version "$(<"${WORK}/broker-version")" \
                    '. + {broker:$broker, broker_version:$broker_version}' >>"${RESULTS_DIR}/results.jsonl"
            else
                # shellcheck disable=SC2086 # "codec mode"
                run_program "${client}" "${broker}" "${bootstrap}" ${run}
            fi
        done
    done
    stop_broker
done

log "matrix done in $((SECONDS - started)) s"
# Only a run of the whole matrix rewrites COMPATIBILITY.md; a partial one writes its own table.
table="${ROOT}/COMPATIBILITY.md"
[[ "${clients}" == "${ALL_CLIENTS}" && "${brokers}" == "${ALL_BROKERS}" ]] || table="${RESULTS_DIR}/partial.md"
rm -f "${RESULTS_DIR}/partial.md"
python3 "${COMPAT_DIR}/table.py" --results "${RESULTS_DIR}" --runtime-s $((SECONDS - started)) \
    --known "${COMPAT_DIR}/known-incompatibilities.tsv" --out "${table}"
