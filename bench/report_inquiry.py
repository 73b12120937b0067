#!/usr/bin/env python3
"""Rewrites the "## Inquiry hot path (issue 5)" section of bench/RESULTS.md from the latest
bench/results/inquiry-<N>-<stamp>/summary.tsv of each N (100k and 1M), plus the hand-written
analysis in bench/inquiry-notes.md. Only that section is touched; other sections stay as they are.

usage: report_inquiry.py [summary.tsv ...]   (default: the latest run of each N)
"""
import csv
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
HEADING = "## Inquiry hot path (issue 5)"


def latest_summaries():
    """Every run, oldest first; a later run's row replaces an earlier one of the same scenario
    (a noisy scenario can be re-run alone with --reuse --only ...)."""
    def stamp(path):
        return os.path.basename(os.path.dirname(path)).split("-")[2]
    return sorted(glob.glob(os.path.join(ROOT, "results", "inquiry-*-*", "summary.tsv")), key=stamp)


def f(v, digits=2):
    try:
        return f"{float(v):,.{digits}f}"
    except ValueError:
        return v or "-"


def main():
    paths = sys.argv[1:] or latest_summaries()
    if not paths:
        sys.exit("no complete inquiry benchmark run under bench/results/")
    latest = {}
    for path in paths:
        run = os.path.relpath(os.path.dirname(path), os.path.dirname(ROOT))
        for r in csv.DictReader(open(path), delimiter="\t"):
            r["run"] = run
            latest[(r["kind"], int(r["borrowers"]), r["cache"], int(r["conns"]))] = r
    order = {"hits": 0, "cold": 1, "-": 2}
    rows = [latest[k] for k in sorted(latest, key=lambda k: (k[0], k[1], order.get(k[2], 3), k[3]))]
    floors = {(r["borrowers"], r["conns"]): r for r in rows if r["kind"] == "floor"}
    runs = sorted({r["run"] for r in rows})

    def floor_of(r):
        return floors.get((r["borrowers"], r["conns"]))

    out = [HEADING, ""]
    out.append("Command: `bench/inquiry.sh` (100,000 borrowers) and `bench/inquiry.sh --borrowers 1000000`; "
               "each run re-seeds its own database, runs the floor server and the server with the same wrk "
               "settings (1 thread at 1 connection, 2 threads at 16/32; 5 s discarded warm-up, 20 s measured; "
               "random borrowers), then regenerates this section (`bench/report_inquiry.py`). Raw wrk outputs: "
               + ", ".join(f"`{r}/`" for r in runs) + ".")
    out.append("")
    out.append("Latencies in ms (wrk `--latency`: p50/p90/p99 and max). *Floor* = the floor server (parse the "
               "request, one Redis GET, answer) at the same connection count in the same run; *ratio* = "
               "inquiry rps / floor rps. *Misses* = share of inquiries that needed a Postgres fill "
               "(server metrics). *Load* = 1/5/15-min load average and the CPU busy share in the 2 s before "
               "the run (the server idle then: that is other engineers' work on the same 2 cores). *Commit* and "
               "*batch* = mean access-log commit latency (ms) and rows per commit during the run (server metrics).")
    out.append("")
    out.append("| Borrowers | Cache | Conns | rps | p50 | p90 | p99 | max | floor rps | ratio | misses | commit | batch | non-2xx | load before run |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["kind"] != "inquiry":
            continue
        fl = floor_of(r)
        ratio = f"{float(r['rps']) / float(fl['rps']):.1%}" if fl and fl["rps"] else "-"
        out.append(f"| {int(r['borrowers']):,} | {r['cache']} | {r['conns']} | {f(r['rps'], 0)} | {f(r['p50_ms'])} | "
                   f"{f(r['p90_ms'])} | {f(r['p99_ms'])} | {f(r['max_ms'])} | {f(fl['rps'], 0) if fl else '-'} | "
                   f"{ratio} | {f(float(r['miss_share']) * 100, 0) + ' %' if r['miss_share'] else '-'} | "
                   f"{r.get('commit_ms') or '-'} | {r.get('batch_rows') or '-'} | {r['non2xx']} | {r['load']} |")
    out.append("")
    out.append("Floor server alone:")
    out.append("")
    out.append("| Borrowers (run) | Conns | rps | p50 | p90 | p99 | max | load before run |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["kind"] == "floor":
            out.append(f"| {int(r['borrowers']):,} | {r['conns']} | {f(r['rps'], 0)} | {f(r['p50_ms'])} | "
                       f"{f(r['p90_ms'])} | {f(r['p99_ms'])} | {f(r['max_ms'])} | {r['load']} |")
    out.append("")
    for r in rows:
        if r["kind"] == "profiled":
            out.append(f"Profiled run ({int(r['borrowers']):,} borrowers, cached, 32 connections, JFR recording on; "
                       f"not used in the table): {f(r['rps'], 0)} rps, p50 {f(r['p50_ms'])}, p99 {f(r['p99_ms'])} ms, "
                       f"commit {r.get('commit_ms') or '-'} ms, batch {r.get('batch_rows') or '-'}; {r['load']} "
                       f"(`{r['run']}/`).")
            out.append("")

    # targets
    def get(n, cache, conns):
        for r in rows:
            if r["kind"] == "inquiry" and r["borrowers"] == n and r["cache"] == cache and r["conns"] == conns:
                return r
        return None

    def mark(ok):
        return "**met**" if ok else "**missed**"

    t = ["| Target (issue 5) | Measured | Verdict |", "|---|---|---|"]
    for n in ("100000", "1000000"):
        label = f"{int(n):,}"
        r = get(n, "hits", "1")
        if r:
            ok = float(r["p50_ms"]) < 0.5 and float(r["p99_ms"]) < 1.0
            t.append(f"| cached, 1 connection: p50 < 0.5 ms and p99 < 1 ms ({label}) | p50 {f(r['p50_ms'])} ms, "
                     f"p99 {f(r['p99_ms'])} ms | {mark(ok)} |")
        r = get(n, "hits", "16")
        if r:
            t.append(f"| cached, 16 connections: p99 < 3 ms ({label}) | p99 {f(r['p99_ms'])} ms | "
                     f"{mark(float(r['p99_ms']) < 3.0)} |")
        r = get(n, "hits", "32")
        fl = floor_of(r) if r else None
        if r and fl:
            ratio = float(r["rps"]) / float(fl["rps"])
            t.append(f"| cached, 32 connections: rps >= 30 % of the floor's ({label}) | {f(r['rps'], 0)} of "
                     f"{f(fl['rps'], 0)} rps = {ratio:.1%} | {mark(ratio >= 0.3)} |")
    for n in ("100000", "1000000"):
        label = f"{int(n):,}"
        cold = [get(n, "cold", c) for c in ("1", "16", "32")]
        cold = [r for r in cold if r]
        if cold:
            parts = ", ".join(f"{r['conns']} conn: {f(r['p99_ms'])} ms" for r in cold)
            t.append(f"| cold cache: p99 < 5 ms ({label}) | {parts} | "
                     f"{mark(all(float(r['p99_ms']) < 5.0 for r in cold))} |")
    if any(r["borrowers"] == "1000000" for r in rows):
        parts, ok = [], True
        for c in ("1", "16", "32"):
            a, b = get("100000", "hits", c), get("1000000", "hits", c)
            if not a or not b:
                continue
            d50 = float(b["p50_ms"]) / float(a["p50_ms"]) - 1
            d99 = float(b["p99_ms"]) / float(a["p99_ms"]) - 1
            ok = ok and d50 <= 0.10 and d99 <= 0.10
            parts.append(f"{c} conn: p50 {d50:+.0%}, p99 {d99:+.0%}")
        t.append(f"| cached latency at 1M within 10 % of 100k (p50 and p99, each connection count) | "
                 f"{'; '.join(parts)} | {mark(ok)} |")
    out.append("Targets:")
    out.append("")
    out.extend(t)
    out.append("")
    notes = os.path.join(ROOT, "inquiry-notes.md")
    if os.path.exists(notes):
        out.append(open(notes).read().rstrip())
        out.append("")
    section = "\n".join(out) + "\n"

    results = os.path.join(ROOT, "RESULTS.md")
    text = open(results).read()
    pattern = re.compile(r"^" + re.escape(HEADING) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: section + ("\n" if m.end() < len(text) else ""), text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    open(results, "w").write(text)
    print(f"updated {results} from {', '.join(runs)}")


if __name__ == "__main__":
    main()
