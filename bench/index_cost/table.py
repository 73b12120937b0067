#!/usr/bin/env python3
"""The table of bench/index_cost/run.sh: per variant the time per row (min and median over the
runs: on a shared machine the min is the better estimate of the work itself), the WAL and index
bytes per row, and each index's cost = all indexes - all but that one.
usage: table.py summary.tsv BATCH ROWS"""
import csv
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
batch, n = int(sys.argv[2]), int(sys.argv[3])
variants = sorted({r["variant"] for r in rows})


def vals(v, col):
    return [float(r[col]) for r in rows if r["variant"] == v]


us_min = {v: min(vals(v, "ms_per_batch")) * 1000 / batch for v in variants}
us_med = {v: statistics.median(vals(v, "ms_per_batch")) * 1000 / batch for v in variants}
wal = {v: min(vals(v, "wal_bytes")) / n for v in variants}
size = {v: statistics.median(vals(v, "index_bytes")) / n for v in variants}
runs = len(vals("all", "ms_per_batch"))
print(f"{n:,} rows in batches of {batch}, {runs} runs per variant (WAL: the cluster's, min over runs)")
print()
print("| variant | µs/row min | µs/row median | WAL B/row | index B/row |")
print("|---|---|---|---|---|")
for v in ["all", "none"] + [v for v in variants if v.startswith("without-")]:
    print(f"| {v} | {us_min[v]:.1f} | {us_med[v]:.1f} | {wal[v]:.0f} | {size[v]:.0f} |")
print()
print("| index | cost µs/row (min) | cost µs/row (median) | WAL B/row | index B/row |")
print("|---|---|---|---|---|")
for v in variants:
    if v.startswith("without-"):
        name = v[len("without-"):]
        print(f"| {name} | {us_min['all'] - us_min[v]:.1f} | {us_med['all'] - us_med[v]:.1f} | "
              f"{wal['all'] - wal[v]:.0f} | {size['all'] - size[v]:.0f} |")
print(f"| all 5 together | {us_min['all'] - us_min['none']:.1f} | {us_med['all'] - us_med['none']:.1f} | "
      f"{wal['all'] - wal['none']:.0f} | {size['all']:.0f} |")
