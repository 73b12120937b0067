"""Measures the compliance endpoints of a running bureau over a filled access log (see bench/audit.sh)."""
import hashlib, http.client, json, random, subprocess, sys, threading, time, urllib.parse

base, token, db, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
u = urllib.parse.urlparse(base)
H = {"Authorization": "Bearer " + token}

def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=600)

def psql(q):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atc", q],
                          capture_output=True, text=True).stdout.strip()

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]

def lat(paths, label):
    c = conn()
    for p in paths[:20]:  # warm-up
        c.request("GET", p, headers=H); c.getresponse().read()
    ts = []
    for p in paths:
        t = time.perf_counter(); c.request("GET", p, headers=H); r = c.getresponse(); r.read()
        ts.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, (r.status, p)
    print(f"{label}: n={len(ts)} p50={pct(ts, .5):.2f} ms p99={pct(ts, .99):.2f} ms max={max(ts):.2f} ms")

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C = "10X98765432"
import datetime
def person(i):  # as AccessLogFill: NationalId.of("110101", 1950-01-01 + i/50 days, i%50+1)
    d = datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 50)
    f = "110101" + d.strftime("%Y%m%d") + "%03d" % (i % 50 + 1)
    return f + C[sum(int(ch) * w for ch, w in zip(f, W)) % 11]

rnd = random.Random(7)
people = [person(rnd.randrange(1_000_000)) for _ in range(1000)]
lenders = [f"bench-lender-{rnd.randrange(500)}" for _ in range(1000)]
psql("INSERT INTO members (id, name, status) SELECT 'bench-lender-' || g, 'Bench ' || g, 'ACTIVE' FROM generate_series(0, 499) g ON CONFLICT DO NOTHING")
lat([f"/v1/compliance/access-log?lenderId={l}&limit=50" for l in lenders], "list by lender (limit 50, last 30 days)")
lat([f"/v1/compliance/access-log?lenderId={l}&decision=DENIED&limit=50&from=2000-01-01T00:00:00Z" for l in lenders[:500]],
    "list by lender + DENIED (limit 50, capped 366 days)")
lat([f"/v1/compliance/access-log?nationalId={p}&limit=50&from=2000-01-01T00:00:00Z" for p in people],
    "list by person (limit 50, capped 366 days)")

def rss():
    try:
        return int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024
    except Exception:
        return -1

def heap():
    out = subprocess.run(["jcmd", pid, "GC.heap_info"], capture_output=True, text=True).stdout
    return " ".join(l.strip() for l in out.splitlines()[:2])

peak = [0]
stop = [False]
def sampler():
    while not stop[0]:
        out = subprocess.run(["jstat", "-gc", pid], capture_output=True, text=True).stdout.split("\n")
        try:
            h, v = out[0].split(), [float(x) for x in out[1].split()]
            used = sum(v[h.index(k)] for k in ("S0U", "S1U", "EU", "OU")) / 1024
            peak[0] = max(peak[0], used)
        except Exception:
            pass
        time.sleep(0.5)

for label, q, accept in [("export NDJSON, last 30 days", "", "application/x-ndjson"),
                         ("export CSV, last 30 days", "", "text/csv"),
                         ("export NDJSON, 366 days (capped)", "?from=2000-01-01T00:00:00Z", "application/x-ndjson")]:
    peak[0] = 0; stop[0] = False
    th = threading.Thread(target=sampler); th.start()
    c = conn(); t = time.perf_counter()
    c.request("GET", "/v1/compliance/access-log/export" + q, headers={**H, "Accept": accept})
    r = c.getresponse(); n = 0; nbytes = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk: break
        n += chunk.count(b"\n"); nbytes += len(chunk)
    dt = time.perf_counter() - t
    stop[0] = True; th.join()
    print(f"{label}: {n:,} lines, {nbytes/1e6:.0f} MB in {dt:.1f} s = {n/dt:,.0f} rows/s; "
          f"peak heap used {peak[0]:.0f} MB (-Xmx256m), RSS now {rss()} MB")

for label, q in [("verify, last 30 days", ""), ("verify, 366 days (capped: whole log)", "?from=2000-01-01T00:00:00Z")]:
    c = conn(); t = time.perf_counter()
    c.request("GET", "/v1/compliance/access-log/verify" + q, headers=H)
    r = c.getresponse(); body = json.loads(r.read())
    dt = time.perf_counter() - t
    print(f"{label}: checked {body.get('checked'):,} in {dt:.1f} s = {body.get('checked')/dt:,.0f} rows/s; "
          f"intact={body.get('intact')} chains={body.get('chains')}")
