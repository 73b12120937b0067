#!/usr/bin/env python3
"""Aggregates `jfr print --events jdk.ExecutionSample --stack-depth 64 FILE` output: the top frames
(self time), coarse buckets by subsystem (innermost known frame: where the CPU is spent), the same
buckets inclusive (share of samples with any frame of the subsystem on the stack: what a piece of
work costs with everything it calls), and the top io.openbureau frames (inclusive).
usage: jfr print ... | jfr_top.py [N]"""
import collections
import re
import sys

top_n = int(sys.argv[1]) if len(sys.argv) > 1 else 25
samples = []
threads = collections.Counter()
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
        t = re.match(r'\s+sampledThread = "([^"]+)"', line)
        if t:
            threads[re.sub(r"\d+", "N", t.group(1))] += 1

# order matters: the first bucket whose prefix matches a frame wins, innermost frame first
BUCKETS = [
    ("logging (logback, slf4j, Logging)", ("ch.qos.logback", "org.slf4j", "net.logstash", "io.openbureau.Logging")),
    ("metrics (micrometer, vertx-micrometer)", ("io.micrometer", "io.vertx.micrometer")),
    ("JWT check (vertx-auth-jwt, auth/*)", ("io.vertx.ext.auth", "io.openbureau.auth")),
    ("crypto (HMAC, SHA, signatures, SecureRandom)", ("sun.security", "com.sun.crypto", "javax.crypto",
                                                      "java.security", "java.util.UUID.randomUUID")),
    ("Postgres client (vertx-pg-client)", ("io.vertx.pgclient", "io.vertx.sqlclient")),
    ("Redis client (vertx-redis-client: RESP encode/decode, pool)", ("io.vertx.redis",)),
    ("access log (audit/*: AuditWriter, ChainHash)", ("io.openbureau.audit",)),
    ("Redis glue (cache/*: RedisStore, LuaScript, VersionedCache)", ("io.openbureau.cache",)),
    ("inquiry logic (inquiry/*)", ("io.openbureau.inquiry",)),
    ("HTTP glue (http/*: request ids, problem answers)", ("io.openbureau.http",)),
    ("other io.openbureau", ("io.openbureau",)),
    ("JSON (jackson, vertx json)", ("com.fasterxml", "io.vertx.core.json")),
    ("vertx-web routing / openapi validation", ("io.vertx.ext.web", "io.vertx.openapi", "io.vertx.json.schema")),
    ("HTTP server codec (vertx core http, netty http)", ("io.vertx.core.http", "io.netty.handler.codec")),
    ("vertx core (futures, context, event loop glue)", ("io.vertx.core",)),
    ("netty transport / event loop / socket IO", ("io.netty",)),
]


def bucket(stack):
    for frame in stack:
        for name, prefixes in BUCKETS:
            if frame.startswith(prefixes):
                return name
    return "other (JDK, GC-adjacent, ...)"


n = len(samples) or 1
print(f"{len(samples)} execution samples")
print("\nthreads:")
for t, c in threads.most_common(8):
    print(f"  {c:5d} {100 * c / n:5.1f}%  {t}")
print("\nself (top frame):")
for frame, c in collections.Counter(s[0] for s in samples if s).most_common(top_n):
    print(f"  {c:5d} {100 * c / n:5.1f}%  {frame}")
print("\nby subsystem, self (innermost known frame):")
for name, c in collections.Counter(bucket(s) for s in samples if s).most_common():
    print(f"  {c:5d} {100 * c / n:5.1f}%  {name}")
print("\nby subsystem, inclusive (any frame on the stack):")
inc_b = collections.Counter()
for s in samples:
    for name, prefixes in BUCKETS:
        if any(f.startswith(prefixes) for f in s):
            inc_b[name] += 1
for name, c in inc_b.most_common():
    print(f"  {c:5d} {100 * c / n:5.1f}%  {name}")
print("\ninclusive, io.openbureau frames:")
inc = collections.Counter()
for s in samples:
    for frame in set(f for f in s if f.startswith("io.openbureau")):
        inc[frame] += 1
for frame, c in inc.most_common(top_n):
    print(f"  {c:5d} {100 * c / n:5.1f}%  {frame}")
