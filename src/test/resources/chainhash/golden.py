#!/usr/bin/env python3
"""Golden vectors of the access-log hash (io.openbureau.audit.ChainHash), written from the
specification alone, without the Java code: rows -> canonical bytes -> SHA-256(prev_hash || bytes).

Regenerate (only when adding vectors; existing ones must never change):
    python3 src/test/resources/chainhash/golden.py > src/test/resources/chainhash/golden.json

v3 (current): fields in order, each  <decimal byte length> ":" <bytes>,  a null as "~":
    "v3", id, at (microseconds since 1970 UTC), chain_id, chain_seq, action, actor_role, actor_id,
    lender_id, borrower_key (lower-case hex), purpose, scope, decision, reason,
    consent_id (36-char lower-case UUID), request_id, score_value, details (the stored text)
  numbers in decimal, text in UTF-8.
v2 (legacy, frozen with its bug): the same fields after the tag "v2", except that a number's last
  len(str(len(digits))) digits are replaced by the digits of its length (the length prefix was
  built in the same scratch buffer), e.g. 21 -> "2:22", 29 -> "2:22", 7 -> "1:1".
"""
import hashlib
import json
import sys


def field(b):
    return b"~" if b is None else str(len(b)).encode() + b":" + b


def text(s):
    return None if s is None else s.encode("utf-8")


def number_v3(v):
    return None if v is None else str(v).encode()


def number_v2(v):
    if v is None:
        return b"~"
    digits = str(v)
    n = len(digits)
    d = len(str(n))
    return str(n).encode() + b":" + (digits[:n - d] + str(n)).encode()


def canonical(row):
    v = row["version"]
    num = (lambda x: field(number_v3(x))) if v == 3 else number_v2
    out = field(b"v3" if v == 3 else b"v2")
    out += num(row["id"])
    out += num(row["atMicros"])
    out += field(text(row["chainId"]))
    out += num(row["chainSeq"])
    for k in ("action", "actorRole", "actorId", "lenderId"):
        out += field(text(row[k]))
    key = row["borrowerKey"]
    out += field(None if key is None else key.lower().encode())
    for k in ("purpose", "scope", "decision", "reason", "consentId", "requestId"):
        out += field(text(row[k]))
    out += num(row["scoreValue"])
    out += field(text(row["details"]))
    return out


KEY = "".join("%02x" % i for i in range(32))
BASE = {
    "version": 3, "id": 21, "atMicros": 1764596141541604, "chainId": "a1b2c3d4-1-mi2k3", "chainSeq": 5,
    "action": "INQUIRY", "actorRole": "lender", "actorId": "lender-a", "lenderId": "lender-a",
    "borrowerKey": KEY, "purpose": "LOAN_ORIGINATION", "scope": "SCORE", "decision": "GRANTED",
    "reason": None, "consentId": "0f8fad5b-d9cb-469f-a165-70867728950e", "requestId": "req-1",
    "scoreValue": 625, "details": None,
}


def variant(name, version=3, **changes):
    row = dict(BASE, version=version, **changes)
    row["name"] = name
    return row


ROWS = [
    variant("base"),
    variant("id 29 (v2 hashed it as 21)", id=29),
    variant("at +95 us (v2 could not see it)", atMicros=1764596141541699),
    variant("chain_seq 7 (v2 hashed it as 5)", chainSeq=7),
    variant("score 629 (v2 hashed it as 625)", scoreValue=629),
    variant("every nullable field null", actorId=None, lenderId=None, borrowerKey=None, purpose=None, scope=None,
            consentId=None, requestId=None, scoreValue=None, details=None),
    variant("empty strings, not nulls", actorId="", lenderId="", purpose="", scope="", reason="", requestId="",
            details=""),
    variant("an empty borrower key", borrowerKey=""),
    variant("unicode and escapes", actorId="officer-\u00e9", reason="r\u00e9ason \"q\" 1:2~",
            requestId="\u4e2d\u6587-\U0001f600",
            details="{\"q\": \"say \\\"hi\\\"\", \"\u00e9\": \"\u503c\", \"ctl\": \"a\\u0001b\"}"),
    variant("compliance read with details", action="COMPLIANCE_READ", actorRole="compliance",
            actorId="officer-1", lenderId=None, borrowerKey=None, purpose=None, scope=None, consentId=None,
            scoreValue=None, details="{\"rows\": 20, \"from\": \"2026-11-01T00:00:00Z\"}"),
    variant("extreme numbers", id=9223372036854775807, atMicros=-1, chainSeq=1, scoreValue=-2147483648),
    variant("a field boundary moved (chain id ends where actor starts)", chainId="a1b2c3d4-1-mi2k3I",
            action="NQUIRY"),
    variant("v2: base", version=2, details=None),
    variant("v2: id 29 collides with 21", version=2, id=29),
    variant("v2: details as jsonb printed it", version=2, details="{\"fields\": [\"purpose\"], \"status\": 400}"),
    variant("v2: single digits all encode as 1", version=2, id=7, chainSeq=3, scoreValue=None),
]


def main():
    prev = bytes(32)
    vectors = []
    for row in ROWS:
        c = canonical(row)
        h = hashlib.sha256(prev + c).digest()
        vectors.append(dict(row, prevHash=prev.hex(), canonicalHex=c.hex(), rowHash=h.hex()))
        prev = h
    json.dump({"generator": "src/test/resources/chainhash/golden.py", "vectors": vectors}, sys.stdout,
              indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
