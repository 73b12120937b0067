#!/usr/bin/env python3
"""Issue 12's bars from one bench/inquiry.sh run: the bureau's cached runs next to the floor
server's run at the same connection count and repeat (measured back to back), and the verdicts on
the median over the repeats.

  bars: 32 connections: bureau rps >= 30 % of the floor's;
        1 connection:   bureau p99 <= 3x the floor's p99;  bureau p50 < 0.5 ms.

usage: bars.py bench/results/inquiry-<N>-<stamp>/summary.tsv
"""
import csv
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
floor = {(r["conns"], r.get("rep") or "1"): r for r in rows if r["kind"] == "floor"}
pairs = []
for r in rows:
    if r["kind"] == "inquiry" and r["cache"] == "hits":
        f = floor.get((r["conns"], r.get("rep") or "1"))
        if f:
            pairs.append((r, f))
if not pairs:
    sys.exit("no floor/bureau pairs in " + sys.argv[1])


def num(v):
    return float(v)


print(f"Bars run: {sys.argv[1]}")
print()
print("| conns | rep | bureau rps | floor rps | rps ratio | bureau p50 | floor p50 | bureau p99 | floor p99 "
      "| p99 ratio | commit ms | batch rows | Redis evals/req | Redis us/eval | CPU us/req bureau | CPU us/req floor "
      "| Redis CPU us/req bureau | load before |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
by_conns = {}
for r, f in sorted(pairs, key=lambda p: (int(p[0]["conns"]), int(p[0].get("rep") or 1))):
    ratio = num(r["rps"]) / num(f["rps"])
    p99r = num(r["p99_ms"]) / num(f["p99_ms"])
    by_conns.setdefault(r["conns"], []).append((r, f, ratio, p99r))
    print(f"| {r['conns']} | {r.get('rep') or 1} | {num(r['rps']):,.0f} | {num(f['rps']):,.0f} | {ratio:.1%} | "
          f"{num(r['p50_ms']):.3f} | {num(f['p50_ms']):.3f} | {num(r['p99_ms']):.2f} | {num(f['p99_ms']):.2f} | "
          f"{p99r:.1f}x | {r.get('commit_ms') or '-'} | {r.get('batch_rows') or '-'} | "
          f"{r.get('redis_evals_per_req') or '-'} | {r.get('redis_us_per_eval') or '-'} | "
          f"{r.get('cpu_us_per_req') or '-'} | {f.get('cpu_us_per_req') or '-'} | {r.get('redis_cpu_us_per_req') or '-'} | "
          f"{r['load']} |")
print()


def med(xs):
    return statistics.median(xs)


def mark(ok):
    return "**met**" if ok else "**missed**"


print("| bar (issue 12) | median over repeats (min-max) | verdict |")
print("|---|---|---|")
if "32" in by_conns:
    rs = [x[2] for x in by_conns["32"]]
    print(f"| 32 connections: rps >= 30 % of the floor's | {med(rs):.1%} ({min(rs):.1%}-{max(rs):.1%}) | "
          f"{mark(med(rs) >= 0.30)} |")
if "1" in by_conns:
    ps = [x[3] for x in by_conns["1"]]
    print(f"| 1 connection: p99 <= 3x the floor's p99 | {med(ps):.1f}x ({min(ps):.1f}-{max(ps):.1f}x) | "
          f"{mark(med(ps) <= 3.0)} |")
    p50 = [num(x[0]["p50_ms"]) for x in by_conns["1"]]
    print(f"| 1 connection: p50 < 0.5 ms | {med(p50):.3f} ms ({min(p50):.3f}-{max(p50):.3f}) | "
          f"{mark(med(p50) < 0.5)} |")
for c, xs in sorted(by_conns.items(), key=lambda kv: int(kv[0])):
    if c not in ("1", "32"):
        rs = [x[2] for x in xs]
        print(f"| {c} connections (no bar): rps ratio | {med(rs):.1%} | - |")
