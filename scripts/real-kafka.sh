#!/usr/bin/env bash
# Real Apache Kafka (KRaft, combined broker+controller nodes) on loopback, built from Maven Central
# artifacts: the oracle the mock broker is compared with (issue 8).
#
#   scripts/real-kafka.sh fetch                        resolve the jars into the cache, nothing else
#   scripts/real-kafka.sh start [--brokers 1|3] [--state-dir DIR] [--watch-pid PID]
#                                                       start, wait until every node answers Metadata,
#                                                       print bootstrap=127.0.0.1:PORT[,...] on stdout
#                                                       (node 1 first, then 2 and 3)
#   scripts/real-kafka.sh status [--state-dir DIR]     print the bootstrap and node pids; exit 1 if down
#   scripts/real-kafka.sh stop [--state-dir DIR]       end exactly the processes started, remove DIR
#   scripts/real-kafka.sh kill-broker N [--state-dir DIR]  SIGKILL node N (its node.id) and wait until
#                                                       it is gone; the others keep running
#   scripts/real-kafka.sh stop-broker N [--state-dir DIR]  the same with SIGTERM (a controlled shutdown)
#
# --watch-pid PID stops the cluster once PID exits (a test that dies without its drop guard running
# leaves nothing behind). Progress goes to stderr; stdout carries only the bootstrap line.
#
# Environment:
#   KAFKA_VERSION                  Kafka release from Maven Central (default 4.3.1)
#   KTRIAL_CACHE                   jar cache (default ~/.cache/ktrial); jars in kafka-<version>/libs
#   KTRIAL_REAL_KAFKA_STATE        default state dir (default ${TMPDIR:-/tmp}/ktrial-real-kafka)
#   KTRIAL_REAL_KAFKA_JVM_OPTS     JVM options (default: 512 MiB heap, G1)
#   KTRIAL_REAL_KAFKA_START_TIMEOUT  seconds to wait for the cluster to answer (default 180)
set -euo pipefail

readonly KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
# Kafka ships no logging backend in its Maven dependencies; the distribution adds log4j2.
readonly LOG4J_VERSION="2.25.3"
# Kafka's poms ask for slf4j 1.7, which finds no log4j2 binding; the distribution ships slf4j 2.
readonly SLF4J_VERSION="2.0.17"
readonly CACHE_DIR="${KTRIAL_CACHE:-$HOME/.cache/ktrial}/kafka-${KAFKA_VERSION}"
readonly LIBS_DIR="${CACHE_DIR}/libs"
readonly JVM_OPTS="${KTRIAL_REAL_KAFKA_JVM_OPTS:--Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true}"
readonly START_TIMEOUT="${KTRIAL_REAL_KAFKA_START_TIMEOUT:-180}"
readonly STOP_GRACE_SECONDS=20
# A state dir holds this file; nothing without it is ever removed.
readonly MARKER=".ktrial-real-kafka"

log() { printf 'real-kafka: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    sed -n '2,24s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

# --- Maven resolution -------------------------------------------------------------------------------

write_pom() {
    cat >"$1" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ktrial</groupId>
  <artifactId>real-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <!-- ProducerPerformance, BrokerApiVersionsCommand and friends -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>${SLF4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
EOF
}

# Resolves Kafka and its runtime dependencies into LIBS_DIR once; later calls reuse it. A lock keeps
# concurrent callers (parallel tests, CI) from resolving twice or seeing a half-filled folder.
# The cache is complete when .complete holds the pom it was resolved from (a changed pom re-resolves).
fetch() {
    local wanted
    wanted=$(write_pom /dev/stdout)
    [[ -f "${CACHE_DIR}/.complete" && "$(<"${CACHE_DIR}/.complete")" == "${wanted}" ]] && return 0
    command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install maven)"
    command -v java >/dev/null || die "java not found; install a JDK 17 (apt-get install openjdk-17-jre-headless)"
    mkdir -p "${CACHE_DIR}"
    exec 9>"${CACHE_DIR}/.lock"
    flock 9
    if [[ ! -f "${CACHE_DIR}/.complete" || "$(<"${CACHE_DIR}/.complete")" != "${wanted}" ]]; then
        log "resolving org.apache.kafka:kafka_2.13:${KAFKA_VERSION} with Maven into ${LIBS_DIR}"
        local started=${SECONDS}
        write_pom "${CACHE_DIR}/pom.xml"
        rm -rf "${LIBS_DIR}.partial" "${LIBS_DIR}"
        if ! mvn -B -q -f "${CACHE_DIR}/pom.xml" \
            org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="${LIBS_DIR}.partial" \
            >"${CACHE_DIR}/mvn.log" 2>&1; then
            tail -n 30 "${CACHE_DIR}/mvn.log" >&2
            rm -rf "${LIBS_DIR}.partial"
            die "Maven could not resolve Kafka ${KAFKA_VERSION} (full log: ${CACHE_DIR}/mvn.log)"
        fi
        [[ -f "${LIBS_DIR}.partial/kafka_2.13-${KAFKA_VERSION}.jar" ]] ||
            die "Maven finished but kafka_2.13-${KAFKA_VERSION}.jar is missing"
        mv "${LIBS_DIR}.partial" "${LIBS_DIR}"
        echo "${wanted}" >"${CACHE_DIR}/.complete"
        log "resolved $(find "${LIBS_DIR}" -name '*.jar' | wc -l) jars in $((SECONDS - started)) s"
    fi
    exec 9>&-
}

# --- wire checks --------------------------------------------------------------------------------------

# Prints how many brokers a Metadata v1 answer from 127.0.0.1:$1 lists, or fails. The request is
# written by hand (header v1, client id "ktrial", an empty topic list) so that this script needs no
# client; the answer starts with size, correlation id 1 and the broker array's length.
metadata_broker_count() {
    local hex
    hex=$(timeout 5 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "\x00\x00\x00\x14\x00\x03\x00\x01\x00\x00\x00\x01\x00\x06ktrial\x00\x00\x00\x00" >&3
        head -c 12 <&3 | od -An -v -tx1' _ "$1" 2>/dev/null) || return 1
    hex=${hex//[[:space:]]/}
    [[ ${#hex} -eq 24 && ${hex:8:8} == 00000001 ]] || return 1
    echo $((16#${hex:16:8}))
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets $picked to a loopback port nobody listens on and not already in $taken, below the kernel's
# ephemeral range (so that no outgoing connection, of a starting node or anyone else, takes it
# before the node binds it). Not a command substitution: $taken must outlive the call.
pick_port() {
    local low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    ((low > 11000)) || low=32768
    while :; do
        picked=$((10000 + RANDOM % (low - 10000)))
        [[ " ${taken} " == *" ${picked} "* ]] && continue
        port_in_use "${picked}" && continue
        taken+=" ${picked}"
        return
    done
}

# --- node lifecycle -----------------------------------------------------------------------------------

# True when $1 is alive and is the java process started with config $2 (a pid may be reused).
is_our_process() {
    [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

write_node_config() { # node_dir node_id broker_port voters n_brokers controller_port
    local dir=$1 id=$2 port=$3 voters=$4 n=$5 controller_port=$6
    local min_isr=$((n < 2 ? 1 : 2))
    cat >"${dir}/server.properties" <<EOF
process.roles=broker,controller
node.id=${id}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dir}/data
auto.create.topics.enable=true
num.partitions=1
offsets.topic.replication.factor=${n}
transaction.state.log.replication.factor=${n}
transaction.state.log.min.isr=${min_isr}
share.coordinator.state.topic.replication.factor=${n}
share.coordinator.state.topic.min.isr=${min_isr}
group.initial.rebalance.delay.ms=0
EOF
    cat >"${dir}/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

# Stops every node recorded in $1 (TERM, then KILL after a grace period), the watcher, and removes $1.
stop_cluster() {
    local state=$1 node pid pids=() configs=()
    [[ -f "${state}/${MARKER}" ]] || return 0
    for node in "${state}"/node-*; do
        [[ -f "${node}/pid" ]] || continue
        pid=$(<"${node}/pid")
        if is_our_process "${pid}" "${node}/server.properties"; then
            kill -TERM "${pid}" 2>/dev/null || true
            pids+=("${pid}")
            configs+=("${node}/server.properties")
        fi
    done
    local deadline=$((SECONDS + STOP_GRACE_SECONDS)) i alive
    while :; do
        alive=0
        for i in "${!pids[@]}"; do
            is_our_process "${pids[$i]}" "${configs[$i]}" && alive=1
        done
        ((alive == 0)) && break
        if ((SECONDS >= deadline)); then
            for i in "${!pids[@]}"; do
                is_our_process "${pids[$i]}" "${configs[$i]}" && kill -KILL "${pids[$i]}" 2>/dev/null || true
            done
            log "killed nodes still running after ${STOP_GRACE_SECONDS} s"
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    if [[ -f "${state}/watcher.pid" ]]; then
        pid=$(<"${state}/watcher.pid")
        # The watcher runs this very function when its owner dies; it must not end itself here.
        if [[ "${pid}" != "${PPID}" && "${pid}" != "$$" ]] && is_our_process "${pid}" "real-kafka"; then
            kill -TERM "${pid}" 2>/dev/null || true
        fi
    fi
    rm -rf "${state}"
}

# Ends node $1 of the cluster in $state with signal $2 and waits until that process is gone. Only
# the pid recorded for that node, and only while it still runs that node's config, is signalled.
end_node() {
    local id=$1 signal=$2 node="${state}/node-$1" pid
    [[ "${id}" =~ ^[1-9][0-9]*$ ]] || die "a node id is a positive number, not '${id}'"
    [[ -f "${state}/${MARKER}" && -f "${node}/pid" ]] || die "no node ${id} in ${state}"
    pid=$(<"${node}/pid")
    is_our_process "${pid}" "${node}/server.properties" || die "node ${id} (pid ${pid}) is not running"
    kill "-${signal}" "${pid}"
    local deadline=$((SECONDS + STOP_GRACE_SECONDS))
    while is_our_process "${pid}" "${node}/server.properties"; do
        ((SECONDS < deadline)) || die "node ${id} (pid ${pid}) still runs ${STOP_GRACE_SECONDS} s after SIG${signal}"
        sleep 0.1
    done
    log "node ${id} (pid ${pid}) ended by SIG${signal}"
}

# Starts one cluster attempt in $state; fails (leaving cleanup to the caller) if it does not come up.
launch() {
    local n=$1 taken="" picked voters="" i
    local -a ports controller_ports
    for ((i = 1; i <= n; i++)); do
        pick_port
        ports[i]=${picked}
        pick_port
        controller_ports[i]=${picked}
        voters+="${voters:+,}${i}@127.0.0.1:${controller_ports[i]}"
    done
    local cluster_id
    # A Kafka Uuid: 16 random bytes, base64url without padding; like Uuid.randomUuid, never one
    # starting with '-', which StorageTool would read as an option (1 start in 64 failed so).
    cluster_id=-
    while [[ "${cluster_id}" == -* ]]; do
        cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    for ((i = 1; i <= n; i++)); do
        local node="${state}/node-${i}"
        mkdir -p "${node}/data"
        write_node_config "${node}" "${i}" "${ports[i]}" "${voters}" "${n}" "${controller_ports[i]}"
        # shellcheck disable=SC2086 # JVM_OPTS is a word list on purpose
        java ${JVM_OPTS} -Dlog4j2.configurationFile="${node}/log4j2.properties" -cp "${LIBS_DIR}/*" \
            kafka.tools.StorageTool format -t "${cluster_id}" -c "${node}/server.properties" \
            >"${node}/format.log" 2>&1 || {
            cat "${node}/format.log" >&2
            log "formatting the storage of node ${i} failed"
            return 1
        }
    done
    for ((i = 1; i <= n; i++)); do
        local node="${state}/node-${i}"
        # shellcheck disable=SC2086
        java ${JVM_OPTS} -Dlog4j2.configurationFile="${node}/log4j2.properties" \
            -Dkafka.logs.dir="${node}" -cp "${LIBS_DIR}/*" \
            kafka.Kafka "${node}/server.properties" </dev/null >"${node}/stdout.log" 2>&1 &
        echo $! >"${node}/pid"
    done
    local bootstrap="" deadline=$((SECONDS + START_TIMEOUT)) count
    for ((i = 1; i <= n; i++)); do
        bootstrap+="${bootstrap:+,}127.0.0.1:${ports[i]}"
    done
    for ((i = 1; i <= n; i++)); do
        local node="${state}/node-${i}"
        while :; do
            # Every node, not only the one asked: node 1 cannot list a node that died on a port
            # clash, and waiting for it would take the whole timeout. Alive is enough here: right
            # after the fork the child may not have exec'd java yet, so its command line does not
            # name the config (is_our_process guards `stop` only).
            local j
            for ((j = 1; j <= n; j++)); do
                kill -0 "$(<"${state}/node-${j}/pid")" 2>/dev/null || {
                    log "node ${j} exited during start-up; last lines of its log:"
                    tail -n 40 "${state}/node-${j}/server.log" "${state}/node-${j}/stdout.log" >&2 2>/dev/null || true
                    return 1
                }
            done
            count=$(metadata_broker_count "${ports[i]}") && ((count == n)) && break
            if ((SECONDS >= deadline)); then
                log "node ${i} did not list ${n} broker(s) in Metadata within ${START_TIMEOUT} s; last lines of its log:"
                tail -n 40 "${node}/server.log" >&2 2>/dev/null || true
                return 1
            fi
            sleep 0.5
        done
    done
    echo "${bootstrap}" >"${state}/bootstrap"
}

start() {
    local n=$1 watch_pid=$2
    [[ "${n}" == 1 || "${n}" == 3 ]] || die "--brokers must be 1 or 3, not ${n}"
    if [[ -f "${state}/${MARKER}" ]]; then
        die "a cluster state already exists in ${state}; run '$0 stop --state-dir ${state}' first"
    fi
    [[ ! -e "${state}" || -z "$(ls -A "${state}")" ]] || die "${state} exists and is not empty"
    fetch
    local started=${SECONDS} attempt
    for attempt in 1 2 3; do
        mkdir -p "${state}"
        touch "${state}/${MARKER}"
        # A failed or interrupted start leaves no process and no folder behind.
        trap 'stop_cluster "${state}"' EXIT
        trap 'exit 130' INT TERM
        if launch "${n}"; then
            trap - EXIT INT TERM
            break
        fi
        # Another process may have taken a port we picked: try again with new ports.
        local bind_clash=0
        grep -qs 'Address already in use' "${state}"/node-*/server.log "${state}"/node-*/stdout.log && bind_clash=1
        stop_cluster "${state}"
        trap - EXIT INT TERM
        ((bind_clash == 1 && attempt < 3)) || die "Kafka ${KAFKA_VERSION} did not start (${n} node(s))"
        log "a port was taken meanwhile; retrying with new ports"
    done
    if [[ -n "${watch_pid}" ]]; then
        # Stops the cluster when the owner exits. Detached from our stdout so that a caller reading
        # our output to its end is not kept waiting.
        (
            while kill -0 "${watch_pid}" 2>/dev/null; do sleep 1; done
            "$0" stop --state-dir "${state}"
        ) </dev/null >/dev/null 2>&1 &
        echo $! >"${state}/watcher.pid"
    fi
    log "Kafka ${KAFKA_VERSION}: ${n} node(s) answering after $((SECONDS - started)) s (state in ${state})"
    echo "bootstrap=$(<"${state}/bootstrap")"
}

status() {
    [[ -f "${state}/bootstrap" ]] || {
        log "not running (no state in ${state})"
        exit 1
    }
    local node pid down=0
    for node in "${state}"/node-*; do
        pid=$(<"${node}/pid")
        if is_our_process "${pid}" "${node}/server.properties"; then
            log "$(basename "${node}"): pid ${pid}, running"
        else
            log "$(basename "${node}"): pid ${pid}, NOT running"
            down=1
        fi
    done
    echo "bootstrap=$(<"${state}/bootstrap")"
    exit "${down}"
}

main() {
    local command=${1:-}
    [[ -n "${command}" ]] || usage
    shift
    local brokers=1 watch_pid="" node_id=""
    if [[ "${command}" == kill-broker || "${command}" == stop-broker ]]; then
        node_id=${1:-}
        [[ -n "${node_id}" ]] || usage
        shift
    fi
    state="${KTRIAL_REAL_KAFKA_STATE:-${TMPDIR:-/tmp}/ktrial-real-kafka}"
    while (($#)); do
        case "$1" in
        --brokers) brokers=${2:?--brokers needs a value}; shift 2 ;;
        --state-dir) state=${2:?--state-dir needs a value}; shift 2 ;;
        --watch-pid) watch_pid=${2:?--watch-pid needs a value}; shift 2 ;;
        *) usage ;;
        esac
    done
    case "${command}" in
    fetch) fetch ;;
    start) start "${brokers}" "${watch_pid}" ;;
    status) status ;;
    stop) stop_cluster "${state}" ;;
    kill-broker) end_node "${node_id}" KILL ;;
    stop-broker) end_node "${node_id}" TERM ;;
    *) usage ;;
    esac
}

main "$@"
