#!/usr/bin/env bash
# Installs and builds every client driver (docs/drivers.md) at the versions compat/ pins, reusing
# compat's installs: compat/python/.venv, compat/node/node_modules, the Maven and Go module caches,
# and the cargo target directory in which compat/rust builds librdkafka. Idempotent: a second run
# only checks. Network: apt, pip, npm, the Go module proxy and Maven Central, through their clients.
#
#   drivers/install.sh [--only LIST]
#
#   --only   comma-separated subset of: java,librdkafka,sarama,franz-go,kafka-python,kafkajs,ktrial
#
# CARGO_TARGET_DIR (default: the repository's target/) is where the Rust drivers are built; the
# drivers/bin wrappers look there too.
set -euo pipefail

DRIVERS_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "${DRIVERS_DIR}")
COMPAT_DIR="${ROOT}/compat"
TARGET_DIR=${CARGO_TARGET_DIR:-${ROOT}/target}
readonly DRIVERS_DIR ROOT COMPAT_DIR TARGET_DIR
readonly ALL="java,librdkafka,sarama,franz-go,kafka-python,kafkajs,ktrial"
readonly INSTALL_TIMEOUT_S=900
bounded="timeout ${INSTALL_TIMEOUT_S}"

only=${ALL}
while (($#)); do
    case "$1" in
    --only) only=${2:?--only needs a list}; shift 2 ;;
    *) sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done

log() { printf 'drivers/install: %s\n' "$*" >&2; }

# kafka-python: compat's venv, created and filled only when an import or a version is missing.
python_ready() {
    "${COMPAT_DIR}/python/.venv/bin/python" - 2>/dev/null <<'EOF'
import kafka, lz4, snappy, zstandard, importlib.metadata as m
want = {l.split("==")[0]: l.split("==")[1].strip() for l in open("compat/python/requirements.txt")
        if "==" in l and not l.startswith("#")}
assert all(m.version(p) == v for p, v in want.items()), "versions differ"
EOF
}

# kafkajs: compat's node_modules, installed with npm ci only when a pinned package is missing.
node_ready() {
    (cd "${COMPAT_DIR}/node" && node -e '
        const lock = require("./package-lock.json").packages;
        for (const dep of Object.keys(require("./package.json").dependencies)) {
            const want = lock["node_modules/" + dep].version;
            if (require(dep + "/package.json").version !== want) process.exit(1);
        }' 2>/dev/null)
}

install() {
    case "$1" in
    java)
        # The same dependencies and plugins as compat/java: the local Maven repository serves both.
        (cd "${DRIVERS_DIR}/java" && ${bounded} mvn -B -q -Dstyle.color=never compile \
            org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory=target/libs) ;;
    sarama | franz-go)
        # One module, compat/go's versions (go.sum): the Go module cache serves both.
        (cd "${DRIVERS_DIR}/go" && ${bounded} go build -o bin/ "./cmd/$1") ;;
    kafka-python)
        cd "${ROOT}"
        if ! python_ready; then
            [[ -x "${COMPAT_DIR}/python/.venv/bin/python" ]] || ${bounded} python3 -m venv "${COMPAT_DIR}/python/.venv"
            ${bounded} "${COMPAT_DIR}/python/.venv/bin/pip" install -q -r "${COMPAT_DIR}/python/requirements.txt"
        fi ;;
    kafkajs)
        node_ready || (cd "${COMPAT_DIR}/node" && ${bounded} npm ci --no-audit --no-fund --silent) ;;
    librdkafka)
        # compat/rust's rdkafka version and features, its Cargo.lock versions, its target directory
        # and profile (dev): cargo reuses the librdkafka (rdkafka-sys) either one built first.
        ${bounded} cargo build -q --manifest-path "${DRIVERS_DIR}/rust/Cargo.toml" --target-dir "${TARGET_DIR}" ;;
    ktrial)
        # `ktrial driver`, a subcommand of the ktrial binary itself.
        (cd "${ROOT}" && ${bounded} cargo build -q --release --bin ktrial --target-dir "${TARGET_DIR}") ;;
    *) log "unknown driver $1"; return 2 ;;
    esac
}

status=0
IFS=, read -r -a selected <<<"${only}"
for d in "${selected[@]}"; do
    started=$(date +%s%N)
    if install "${d}"; then
        log "$(printf '%-13s ready in %5d ms' "${d}" $((($(date +%s%N) - started) / 1000000)))"
    else
        log "${d}: install failed"
        status=1
    fi
done
exit "${status}"
