#!/usr/bin/env python3
"""Seeds N borrowers for the inquiry benchmark, fast, with COPY.

usage: seed_inquiry.py N DATABASE IDS_FILE [LENDER]
       (env BENCH_PREFILL=file.resp BENCH_PREFIX=obb: also writes the Redis cache entries the server
       would fill on a miss, as a redis-cli --pipe file: see prefill() below)

Every borrower gets a valid 18-character national id (GB 11643-1999 check character), its
borrower key HMAC-SHA-256(identity.hmacSecret, id) (key id identity.hmacKeyId), 1-3 tradelines
from three bench furnishers, a score row and an ACTIVE LOAN_ORIGINATION/SCORE consent for the
bench lender. The national ids (test data) go to IDS_FILE, one a line, for wrk.
Expects the schema to exist (the server's Flyway migration) and the tables to be empty.
Secrets come from BENCH_HMAC_SECRET / BENCH_HMAC_KEY_ID (defaults: config/application.yaml).
"""
import datetime
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import uuid

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
AREAS = ["110101", "310104", "440305", "510107", "330106", "320102", "420111", "610113", "370102", "500103"]
FURNISHERS = ["bench-bank-1", "bench-bank-2", "bench-bank-3"]
PRODUCTS = ["CONSUMER_LOAN", "CREDIT_CARD", "AUTO_LOAN", "MICRO_LOAN", "BNPL"]
BANDS = [(800, "EXCELLENT"), (740, "VERY_GOOD"), (670, "GOOD"), (580, "FAIR"), (300, "POOR")]
MODEL = "ob-scorecard-2026.2"  # the current scorecard: the daily pass re-scores every other version


def national_id(i):
    """A distinct valid id per i < 10 areas * 20000 days * 1000 sequences."""
    seq = i % 1000
    day = (i // 1000) % 20000
    area = AREAS[(i // 1000 // 20000) % len(AREAS)]
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=day)
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def copy(db, table, columns, rows):
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    p = subprocess.Popen(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-q", "-v", "ON_ERROR_STOP=1",
                          "-c", sql], stdin=subprocess.PIPE)
    buf = []
    for r in rows:
        buf.append("\t".join("\\N" if v is None else str(v) for v in r))
        if len(buf) >= 10000:
            p.stdin.write(("\n".join(buf) + "\n").encode())
            buf.clear()
    if buf:
        p.stdin.write(("\n".join(buf) + "\n").encode())
    p.stdin.close()
    if p.wait() != 0:
        sys.exit(f"COPY {table} failed")


def resp(*args):
    out = [f"*{len(args)}\r\n"]
    for a in args:
        b = str(a)
        out.append(f"${len(b.encode())}\r\n{b}\r\n")
    return "".join(out)


def prefill(path, prefix, lender, keys, consent_rows, score_rows):
    """The cache entries of a warm server, in the formats of consent/ConsentDecisions (consent slot
    "<version>|<id>|<scope>|<expiresMs>"), scoring/ScoreStore + PersonScore.toCacheJson
    ("<version>|<json>") and inquiry/InquiryCache (the window marker, ttl = windowRebuildSeconds;
    the window itself may be empty). Used instead of a warm-up pass when one would take too long
    (1M borrowers); the benchmark reports the measured miss share, so a wrong format shows."""
    ttl_ms = int(os.environ.get("BENCH_MARKER_TTL_MS", "3600000"))
    with open(path, "w") as f:
        for k, c, s in zip(keys, consent_rows, score_rows):
            hexkey = k[3:]
            tag = f"{prefix}{{b:{hexkey}}}"
            f.write(resp("SET", f"{tag}:consent:{lender}:LOAN_ORIGINATION", c))
            f.write(resp("SET", f"{tag}:score", s))
            f.write(resp("SET", f"{tag}:inq:ready", "1", "PX", ttl_ms))


def main():
    n = int(sys.argv[1])
    db = sys.argv[2]
    ids_file = sys.argv[3]
    lender = sys.argv[4] if len(sys.argv) > 4 else "bench-lender"
    secret = os.environ.get("BENCH_HMAC_SECRET", "dev-only-hmac-secret-change-me-in-production-000000").encode()
    key_id = os.environ.get("BENCH_HMAC_KEY_ID", "dev-2026")
    rnd = random.Random(5)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    granted = now - datetime.timedelta(days=1)
    expires = now + datetime.timedelta(days=365)

    keys = []
    with open(ids_file, "w") as f:
        for i in range(n):
            nid = national_id(i)
            f.write(nid + "\n")
            keys.append("\\\\x" + hmac.new(secret, nid.encode("ascii"), hashlib.sha256).hexdigest())

    copy(db, "members", ["id", "name", "status", "status_version"],
         [(m, m, "ACTIVE", 1) for m in [lender] + FURNISHERS])

    tradeline_counts = [rnd.randint(1, 3) for _ in range(n)]

    def tradelines():
        for i, k in enumerate(keys):
            for j in range(tradeline_counts[i]):
                product = PRODUCTS[(i + j) % len(PRODUCTS)]
                principal = 1000 * (1 + (i * 7 + j) % 200)
                balance = principal * ((i + j) % 10) // 10
                limit = principal if product == "CREDIT_CARD" else None
                opened = datetime.date(2020, 1, 1) + datetime.timedelta(days=(i * 13 + j * 101) % 2000)
                status = "OPEN" if (i + j) % 5 else "CLOSED"
                dpd = 30 if (i % 97 == 0 and status == "OPEN") else 0
                yield (FURNISHERS[j], f"acct-{i}-{j}", k, key_id, product, opened, f"{principal}.00",
                       None if limit is None else f"{limit}.00", "CNY", 12 + (i % 48), status,
                       f"{balance}.00" if status == "OPEN" else "0.00", dpd)

    copy(db, "tradelines", ["member_id", "account_ref", "borrower_key", "key_id", "product_type", "opened_at",
                            "principal", "credit_limit", "currency", "term_months", "status", "balance",
                            "days_past_due"], tradelines())

    reasons = json.dumps([{"code": "SHORT_HISTORY", "description": "Short credit history"}])

    def scores():
        for i, k in enumerate(keys):
            value = 300 + (i * 7919) % 551
            band = next(b for lo, b in BANDS if value >= lo)
            active = sum(1 for j in range(tradeline_counts[i]) if (i + j) % 5)
            yield (k, value, band, reasons, MODEL, now.isoformat(), active, f"{(i % 50) * 1000}.00",
                   30 if i % 97 == 0 else 0, i + 1)

    copy(db, "scores", ["borrower_key", "value", "band", "reasons", "model_version", "as_of", "active_loans",
                        "outstanding_balance", "max_current_dpd", "version"], scores())

    def consents():
        for i, k in enumerate(keys):
            yield (uuid.UUID(int=rnd.getrandbits(128), version=4), k, key_id, lender, "LOAN_ORIGINATION", "SCORE",
                   "ACTIVE", granted.isoformat(), expires.isoformat(), i + 1)

    copy(db, "consents", ["id", "borrower_key", "key_id", "lender_id", "purpose", "scope", "status", "granted_at",
                          "expires_at", "version"], consents())

    if os.environ.get("BENCH_PREFILL"):
        as_of = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        expires_ms = int(expires.timestamp() * 1000)
        rnd2 = random.Random(5)
        for _ in range(n):  # replay the tradeline-count draws so the consent ids match
            rnd2.randint(1, 3)
        consent_rows = (f"{i + 1}|{uuid.UUID(int=rnd2.getrandbits(128), version=4)}|SCORE|{expires_ms}"
                        for i in range(n))

        def score_rows():
            for i in range(n):
                value = 300 + (i * 7919) % 551
                band = next(b for lo, b in BANDS if value >= lo)
                active = sum(1 for j in range(tradeline_counts[i]) if (i + j) % 5)
                payload = json.dumps({"value": value, "band": band, "reasons": json.loads(reasons),
                                      "modelVersion": MODEL, "asOf": as_of, "activeLoans": active,
                                      "outstandingBalance": f"{(i % 50) * 1000}.00",
                                      "maxCurrentDpd": 30 if i % 97 == 0 else 0}, separators=(",", ":"))
                yield f"{i + 1}|{payload}"

        prefill(os.environ["BENCH_PREFILL"], os.environ.get("BENCH_PREFIX", "obb:"), lender, keys, consent_rows,
                score_rows())

    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"SELECT setval('score_version_seq', {n + 1}); SELECT setval('consent_version_seq', {n + 1}); "
                    "ANALYZE members; ANALYZE tradelines; ANALYZE scores; ANALYZE consents;"],
                   check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
