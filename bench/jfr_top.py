#!/usr/bin/env python3
"""Aggregates `jfr print --events jdk.ExecutionSample --stack-depth 64 FILE` output: the top frames
(self time), the top io.openbureau frames on the stack (inclusive), and coarse buckets by
subsystem. usage: jfr print ... | jfr_top.py [N]"""
import collections
import re
import sys

top_n = int(sys.argv[1]) if len(sys.argv) > 1 else 25
samples = []
cur = None
for line in sys.stdin:
    line = line.rstrip()
    if line.startswith("jdk.ExecutionSample"):
        cur = []
        samples.append(cur)
    elif cur is not None:
        m = re.match(r"\s+([\w$.<>/]+(?:\.[\w$<>]+)*)\(.*\)\s+line:", line)
        if m:
            cur.append(m.group(1))

BUCKETS = [
    ("Postgres client (vertx-pg-client)", ("io.vertx.pgclient", "io.vertx.sqlclient")),
    ("Redis client (vertx-redis-client)", ("io.vertx.redis",)),
    ("access log (AuditWriter, ChainHash)", ("io.openbureau.audit",)),
    ("inquiry logic", ("io.openbureau.inquiry",)),
    ("auth (token cache)", ("io.openbureau.auth",)),
    ("metrics (micrometer)", ("io.micrometer", "io.vertx.micrometer")),
    ("JSON (jackson, vertx json)", ("com.fasterxml", "io.vertx.core.json")),
    ("vertx-web routing / openapi", ("io.vertx.ext.web", "io.vertx.openapi")),
    ("HTTP server (vertx core http, netty codec)", ("io.vertx.core.http", "io.netty.handler.codec")),
    ("netty transport / event loop / IO", ("io.netty",)),
    ("crypto (HMAC, SHA)", ("sun.security", "com.sun.crypto", "javax.crypto")),
]


def bucket(stack):
    # the innermost frame that belongs to a known bucket
    for frame in stack:
        for name, prefixes in BUCKETS:
            if frame.startswith(prefixes):
                return name
    return "other (JDK, GC-adjacent, ...)"


n = len(samples)
print(f"{n} execution samples")
print("\nself (top frame):")
for frame, c in collections.Counter(s[0] for s in samples if s).most_common(top_n):
    print(f"  {c:5d} {100 * c / n:5.1f}%  {frame}")
print("\nby subsystem (innermost known frame):")
for name, c in collections.Counter(bucket(s) for s in samples if s).most_common():
    print(f"  {c:5d} {100 * c / n:5.1f}%  {name}")
print("\ninclusive, io.openbureau frames:")
inc = collections.Counter()
for s in samples:
    for frame in set(f for f in s if f.startswith("io.openbureau")):
        inc[frame] += 1
for frame, c in inc.most_common(top_n):
    print(f"  {c:5d} {100 * c / n:5.1f}%  {frame}")
