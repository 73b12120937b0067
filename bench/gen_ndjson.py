#!/usr/bin/env python3
"""Writes N synthetic tradeline lines (about N/3.3 people) as NDJSON: valid national ids, no real persons."""
import json, sys, datetime
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C = "10X98765432"
def nid(i):
    d = datetime.date(1960, 1, 1) + datetime.timedelta(days=i % 20000)
    s = "110105" + d.strftime("%Y%m%d") + "%03d" % ((i // 20000) % 1000)
    return s + C[sum(int(a) * w for a, w in zip(s, W)) % 11]
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    person = i * 10 // 33
    out.write(json.dumps({"type": "tradeline", "accountRef": "BENCH-%d" % i, "nationalId": nid(person),
        "productType": "CONSUMER_LOAN", "openedAt": "2021-03-01", "principal": "10000.00", "status": "OPEN",
        "balance": "%d.00" % (5000 + i % 5000), "daysPastDue": 0 if i % 17 else 30}) + "\n")
