#!/usr/bin/env bash
# kcat (librdkafka from Debian) as a client of the ktrial compatibility matrix (compat/run.sh).
# Produces keyed records with acks=all, reads them back from the earliest offset as a simple
# consumer (-e: up to the end of every partition) and verifies them with awk. The record layout and
# the JSON result lines are the ones every client program follows (compat/README.md).
#
# usage: compat.sh BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]
set -euo pipefail

readonly DEADLINE_S=30 KEYS=8
bootstrap=${1:?usage: compat.sh BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]}
prefix=${2:?topic prefix missing}
codec=${3:?codec missing}
mode=${4:-plain}
records=${COMPAT_RECORDS:-1000}
topic="${prefix}-${codec}-${mode}"
idempotent=false
[[ "${mode}" == idempotent ]] && idempotent=true
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

kcat_version() {
    kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\) .*/kcat \1 (librdkafka \2)/p'
}

# report CHECK RESULT STARTED_MS [DETAIL]
report() {
    local detail=${4:-}
    detail=${detail//\\/\\\\}
    detail=${detail//\"/\\\"}
    detail=$(tr '\n\t' '  ' <<<"${detail}")
    printf '{"client":"kcat","client_version":"%s","check":"%s","codec":"%s","idempotent":%s,"result":"%s","records":%d,"ms":%d,"detail":"%s"}\n' \
        "$(kcat_version)" "$1" "${codec}" "${idempotent}" "$2" "${records}" $(($(date +%s%3N) - $3)) "${detail% }"
}

produce() {
    # One "key<TAB>value" line per record; -K splits key from value.
    awk -v n="${records}" -v keys="${KEYS}" -v topic="${topic}" 'BEGIN {
        pad = sprintf("%64s", ""); gsub(/ /, "x", pad)
        for (i = 0; i < n; i++) printf "key-%d\t%s:%d:%s\n", i % keys, topic, i, pad
    }' >"${work}/records"
    # kcat prints "Delivery failed" on stderr for every record not acknowledged.
    timeout $((DEADLINE_S + 10)) kcat -P -b "${bootstrap}" -t "${topic}" -K $'\t' -z "${codec}" \
        -X acks=all -X enable.idempotence="${idempotent}" -X message.timeout.ms=$((DEADLINE_S * 1000)) \
        <"${work}/records" 2>"${work}/produce.err" || {
        echo "kcat -P exited with $?: $(tail -n 3 "${work}/produce.err")"
        return 1
    }
    if grep -qi 'fail\|error' "${work}/produce.err"; then
        tail -n 3 "${work}/produce.err"
        return 1
    fi
}

consume() {
    timeout $((DEADLINE_S + 10)) kcat -C -b "${bootstrap}" -t "${topic}" -o beginning -e -q \
        -X check.crcs=true -f '%p\t%k\t%s\n' >"${work}/read" 2>"${work}/consume.err" || {
        echo "kcat -C exited with $?: $(tail -n 3 "${work}/consume.err")"
        return 1
    }
    # Count, content, no duplicates, and the order of each key's records in its partition.
    awk -F '\t' -v n="${records}" -v keys="${KEYS}" -v topic="${topic}" '
        BEGIN { pad = sprintf("%64s", ""); gsub(/ /, "x", pad) }
        {
            count++
            split($3, parts, ":"); i = parts[2]
            if (i !~ /^[0-9]+$/ || i + 0 >= n) { print "unexpected value " $3; exit 1 }
            i += 0
            if ($3 != topic ":" i ":" pad || $2 != "key-" (i % keys)) { print "record " i " altered: key " $2; exit 1 }
            if (i in seen) { print "record " i " read twice"; exit 1 }
            seen[i] = 1
            if (($2 in last) && (part[$2] != $1 || last[$2] > i)) {
                print "key " $2 ": record " i " (partition " $1 ") after " last[$2] " (partition " part[$2] ")"; exit 1
            }
            last[$2] = i; part[$2] = $1
        }
        END { if (count != n) { print "read " count + 0 " records, produced " n; exit 1 } }
    ' "${work}/read"
}

case "${codec}" in none | gzip | snappy | lz4 | zstd) ;; *) echo "unknown codec ${codec}" >&2; exit 2 ;; esac
started=$(date +%s%3N)
if ! detail=$(produce); then
    report produce fail "${started}" "${detail}"
    report consume fail "$(date +%s%3N)" "not run: produce failed"
    exit 1
fi
report produce pass "${started}"
started=$(date +%s%3N)
if ! detail=$(consume); then
    report consume fail "${started}" "${detail}"
    exit 1
fi
report consume pass "${started}"
