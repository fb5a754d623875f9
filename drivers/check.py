#!/usr/bin/env python3
"""Checks one driver run for drivers/test.sh (stdlib only).

    check.py KIND WORKDIR [key=value ...]

WORKDIR holds what test.sh collected: `out` (the driver's stdout), `rc` (its exit status),
`input.json`, `cluster.json` (GET /v1/cluster), `records-<p>.json` (GET .../records) and
`journal.json` (GET /v1/journal since the run started). Prints one line per failed check and
exits 1 if any failed. KIND is what the run must show (see test.sh).
"""

import json
import re
import sys
from collections import defaultdict

PRODUCE = re.compile(r"(\S+)-(\d+):(\d+) records/(\d+) batches(?: pid=(-?\d+) seq=(-?\d+))?")


class Run:
    def __init__(self, workdir):
        self.dir = workdir
        self.failures = []
        self.input = json.load(open(f"{workdir}/input.json"))
        self.rc = int(open(f"{workdir}/rc").read().strip() or "-1")
        self.lines = []
        for n, raw in enumerate(open(f"{workdir}/out", encoding="utf-8", errors="replace"), 1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                self.fail(f"stdout line {n} is not JSON: {raw[:120]}")
                continue
            if not isinstance(obj, dict):
                self.fail(f"stdout line {n} is not a JSON object: {raw[:120]}")
                continue
            self.lines.append(obj)

    def fail(self, message):
        self.failures.append(message)

    def expect(self, condition, message):
        if not condition:
            self.fail(message)
        return condition

    def load(self, name, default=None):
        try:
            return json.load(open(f"{self.dir}/{name}"))
        except (OSError, ValueError):
            return default

    # --- the stream of lines --------------------------------------------------------------------

    def stream(self, n, per_record=True):
        """started first, done last, reports for ids 0..n-1 exactly once; returns id -> report."""
        lines = self.lines
        if not self.expect(self.rc == 0, f"exit status {self.rc}, expected 0 ({self.tail()})"):
            return {}
        if not self.expect(lines and lines[0].get("event") == "started", f"first line is not the started line: {lines[:1]}"):
            return {}
        self.expect(lines[0].get("ms") == 0 and lines[0].get("client") and lines[0].get("client_version"),
                    f"started line lacks ms=0/client/client_version: {lines[0]}")
        done = lines[-1]
        if not self.expect(done.get("done") is True, f"last line is not the done line: {done}"):
            return {}
        self.expect(done.get("sent") == n, f"done.sent={done.get('sent')}, expected {n}")
        reports = {}
        last_ms = 0.0
        for obj in lines[1:-1]:
            if "event" in obj:
                self.expect(obj["event"] == "flushed", f"unknown event line {obj}")
                continue
            if "id" not in obj:
                self.fail(f"line that is neither report nor event: {obj}")
                continue
            rid = obj["id"]
            self.expect(isinstance(obj.get("ms"), (int, float)) and obj["ms"] >= 0, f"report without ms: {obj}")
            last_ms = max(last_ms, obj.get("ms", 0))
            if not self.expect(isinstance(rid, int) and 0 <= rid < n, f"report for an id never sent: {obj}"):
                continue
            if not self.expect(rid not in reports, f"second report for id {rid}: {obj}"):
                continue
            reports[rid] = obj
        self.expect(done.get("ms", -1) >= last_ms, f"done.ms {done.get('ms')} before the last report ({last_ms})")
        acked = sum(1 for r in reports.values() if "error" not in r)
        failed = sum(1 for r in reports.values() if "error" in r)
        self.expect((done.get("acked"), done.get("failed")) == (acked, failed),
                    f"done says acked={done.get('acked')} failed={done.get('failed')}, lines say {acked}/{failed}")
        if per_record:
            missing = [i for i in range(n) if i not in reports]
            self.expect(not missing, f"{len(missing)} ids without a report, e.g. {missing[:5]}")
            errors = [r for r in reports.values() if "error" in r]
            self.expect(not errors, f"{len(errors)} records failed, e.g. {errors[:2]}")
        return reports

    def tail(self):
        try:
            err = open(f"{self.dir}/err", encoding="utf-8", errors="replace").read().strip().splitlines()
        except OSError:
            err = []
        return " | ".join((self.lines[-1:] and [json.dumps(self.lines[-1])] or []) + err[-2:])[:400]

    # --- the broker's side ---------------------------------------------------------------------

    def log(self, topic):
        """(partition, offset) -> record, from the records endpoint."""
        cluster = self.load("cluster.json", {})
        partitions = cluster.get("topics", {}).get(topic, {}).get("partitions", [])
        hw = sum(p["high_watermark"] for p in partitions)
        log = {}
        for p in partitions:
            got = self.load(f"records-{p['partition']}.json", {}).get("records", [])
            self.expect(len(got) == p["high_watermark"] - p["log_start_offset"],
                        f"partition {p['partition']}: read {len(got)} records, high watermark {p['high_watermark']}")
            for r in got:
                log[(p["partition"], r["offset"])] = r
        return hw, log

    def produce_requests(self, topic):
        """(acks, [(partition, records, batches, pid)]) per Produce request for topic."""
        journal = self.load("journal.json", {}).get("entries", [])
        out = []
        for e in journal:
            what = e.get("what", {})
            if what.get("type") != "request" or what.get("api") != "Produce":
                continue
            summary = what.get("summary", "")
            parts = [m for m in PRODUCE.finditer(summary) if m.group(1) == topic]
            if not parts:
                continue
            acks = int(summary.split()[0].split("=")[1])
            out.append((acks, [(int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5)) for m in parts]))
        return out


def expected_value(rid, size):
    return (rid.to_bytes(8, "big") + b"." * (max(8, size) - 8)).decode("utf-8", errors="replace")


def check_log_matches(run, reports, n):
    """The log holds exactly the reported records, each with its id's key and value layout."""
    inp = run.input
    hw, log = run.log(inp["topic"])
    run.expect(hw == n, f"high watermarks add up to {hw}, expected {n}")
    seen = set()
    for rid, rep in sorted(reports.items()):
        if "error" in rep:
            continue
        at = (rep["partition"], rep["offset"])
        if not run.expect(at not in seen, f"two ids reported at partition {at[0]} offset {at[1]}"):
            continue
        seen.add(at)
        rec = log.get(at)
        if not run.expect(rec is not None, f"id {rid} reported at {at}, no record there"):
            continue
        key = f"key-{rid % inp['keys']}" if inp.get("keys", 0) > 0 else None
        run.expect(rec["key"] == key, f"record at {at} (id {rid}) has key {rec['key']!r}, expected {key!r}")
        run.expect(rec["value"] == expected_value(rid, inp.get("value_size", 100)),
                   f"record at {at} (id {rid}) does not have the value layout of id {rid}: {rec['value'][:12]!r}")
    run.expect(len(log) == len(seen), f"log holds {len(log)} records, {len(seen)} reported")
    return log


def check_key_order(run, reports):
    by_key = defaultdict(list)
    keys = run.input.get("keys", 0)
    for rid, rep in sorted(reports.items()):
        if keys and "error" not in rep:
            by_key[rid % keys].append((rid, rep["partition"], rep["offset"]))
    for k, recs in by_key.items():
        parts = {p for _, p, _ in recs}
        run.expect(len(parts) == 1, f"key-{k} in partitions {sorted(parts)}")
        offsets = [o for _, _, o in recs]
        run.expect(offsets == sorted(offsets), f"key-{k}: offsets not increasing with id")


def main():
    kind, workdir = sys.argv[1], sys.argv[2]
    opts = dict(a.split("=", 1) for a in sys.argv[3:])
    run = Run(workdir)
    inp = run.input
    n = inp.get("records", 0)
    topic = inp["topic"]

    if kind == "workload":
        # async, keyed, idempotent: everything acknowledged once, stored once, in key order, and
        # every Produce request idempotent (pid) with acks=-1.
        reports = run.stream(n)
        if reports:
            check_log_matches(run, reports, n)
            check_key_order(run, reports)
            reqs = run.produce_requests(topic)
            run.expect(reqs, "no Produce request for the topic in the journal")
            run.expect(all(a == -1 for a, _ in reqs), f"Produce acks {sorted({a for a, _ in reqs})}, expected only -1")
            run.expect(all(pid is not None for _, ps in reqs for *_, pid in ps),
                       "a Produce batch without a producer id: enable.idempotence=true did not take effect")
    elif kind == "linger":
        # linger.ms=2000 with 20 records over 200 ms: one Produce request holds all of them (the
        # default linger would send ~20); acks=1 and no producer id show acks and idempotence.
        reports = run.stream(n)
        if reports:
            check_log_matches(run, reports, n)
            reqs = run.produce_requests(topic)
            counts = [sum(r for _, r, _, _ in ps) for _, ps in reqs]
            run.expect(len(reqs) == 1 and counts == [n],
                       f"{len(reqs)} Produce requests with {counts} records: linger.ms did not take effect (expected 1 with {n})")
            run.expect(all(a == 1 for a, _ in reqs), f"Produce acks {sorted({a for a, _ in reqs})}, expected only 1")
            run.expect(all(pid is None for _, ps in reqs for *_, pid in ps),
                       "a producer id with enable.idempotence=false")
    elif kind == "no-linger":
        # kafkajs: no accumulator; acks=1 must show on the wire, one request per record.
        reports = run.stream(n)
        if reports:
            check_log_matches(run, reports, n)
            reqs = run.produce_requests(topic)
            run.expect(len(reqs) == n, f"{len(reqs)} Produce requests, expected one per record ({n})")
            run.expect(all(a == 1 for a, _ in reqs), f"Produce acks {sorted({a for a, _ in reqs})}, expected only 1")
            run.expect(all(pid is None for _, ps in reqs for *_, pid in ps), "a producer id with enable.idempotence=false")
    elif kind == "sync":
        # sync with flush_every: reports come in id order, each before the next send; a flushed
        # line after every flush_every records; the client's defaults (no properties).
        reports = run.stream(n)
        if reports:
            order = [o["id"] for o in run.lines[1:-1] if "id" in o]
            run.expect(order == list(range(n)), "sync reports not in send order")
            every = inp["flush_every"]
            flushed = [o for o in run.lines if o.get("event") == "flushed"]
            run.expect([f.get("sent") for f in flushed] == list(range(every, n + 1, every)),
                       f"flushed lines at sent={[f.get('sent') for f in flushed]}, expected every {every}")
            position = {id(o): i for i, o in enumerate(run.lines)}
            for f in flushed:
                rid = f["sent"] - 1
                if rid in reports:
                    run.expect(position[id(reports[rid])] < position[id(f)], f"flushed line at sent={f['sent']} before the report of id {rid}")
            check_log_matches(run, reports, n)
            ms = [reports[i]["ms"] for i in range(n)]
            run.expect(ms == sorted(ms), "sync report times not increasing")
            rate = inp.get("rate")
            if rate:
                run.expect(ms[-1] >= (n - 1) / rate * 1000 - 1, f"last report at {ms[-1]} ms: rate {rate}/s not kept")
    elif kind == "fire-and-forget":
        # acks=0, nothing reported per record; the broker has every record, with acks=0 on the wire.
        run.stream(n, per_record=False)
        per_record = [o for o in run.lines if "id" in o]
        run.expect(not per_record, f"{len(per_record)} per-record lines in fire-and-forget, e.g. {per_record[:1]}")
        hw, log = run.log(topic)
        run.expect(hw == n, f"high watermarks add up to {hw}, expected {n}")
        values = sorted(r["value"] for r in log.values())
        run.expect(values == sorted(expected_value(i, inp.get("value_size", 100)) for i in range(n)),
                   "the log's values are not those of ids 0..n-1")
        reqs = run.produce_requests(topic)
        run.expect(reqs and all(a == 0 for a, _ in reqs), f"Produce acks {sorted({a for a, _ in reqs})}, expected only 0")
    elif kind == "fatal":
        # A configuration the client cannot take: exit 2, one fatal line naming the property,
        # nothing produced.
        run.expect(run.rc == 2, f"exit status {run.rc}, expected 2 ({run.tail()})")
        run.expect(len(run.lines) == 1 and "fatal" in run.lines[0], f"expected exactly one fatal line, got {run.lines[:3]}")
        if run.lines and "fatal" in run.lines[0]:
            names = opts["property"].split("|")
            run.expect(run.lines[0].get("property") in names,
                       f"fatal names {run.lines[0].get('property')!r}, expected {' or '.join(names)}: {run.lines[0]['fatal']}")
            run.expect(run.lines[0].get("in") == opts.get("in", "properties"), f"fatal in={run.lines[0].get('in')!r}")
        reqs = run.produce_requests(topic)
        run.expect(not reqs, f"{len(reqs)} Produce requests after a fatal configuration")
    else:
        sys.exit(f"check.py: unknown kind {kind}")

    for f in run.failures:
        print(f"    {f}")
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
