#!/usr/bin/env python3
"""Sync members from a CSV file into 智慧党建平台 (PUT /api/v1/sync/members), batch by batch.

Python 3 standard library only. The CSV's header names the API's fields (see members.csv):
external_id (required), name, gender (male/female), id_number, birth_date (YYYY-MM-DD), ethnicity,
education, job_category, phone, category (full/probationary), org_code (or org_external_id),
joined_at, full_member_at, status, ... An empty cell leaves that field as it is stored.

    DANGJIAN_PASSWORD=... python3 sync_members.py --url http://127.0.0.1:8080 --username it_sync members.csv

Each batch is sent with an Idempotency-Key made of the file's hash and the batch's number, so
running the script again after a network failure never applies a batch twice: the server answers
the stored result. By default a batch with an invalid row is refused as a whole (nothing of it is
written) and the script stops, listing the rows at fault; --partial applies the valid rows and
lists the others. Exit status: 0 all applied, 1 a batch failed, 2 some rows were rejected (--partial).
"""

import argparse
import csv
import getpass
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

BOOLEAN_FIELDS = {"is_flowing", "lost_contact"}


def call(method, url, body=None, token=None, headers=None):
    """Sends a JSON request; answers (status, parsed body, headers)."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=600) as res:
            raw, status, hdrs = res.read(), res.status, res.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = {"detail": raw.decode("utf-8", "replace")}
    return status, parsed, hdrs


def login(base, username, password):
    status, body, _ = call("POST", base + "/api/v1/auth/login", {"username": username, "password": password})
    if status != 200:
        sys.exit("login failed ({}): {}".format(status, (body or {}).get("detail") or (body or {}).get("code")))
    return body["access_token"]


def items_of(rows):
    items = []
    for row in rows:
        item = {}
        for k, v in row.items():
            if not k or v is None or not v.strip():
                continue
            k, v = k.strip(), v.strip()
            item[k] = v.lower() in ("true", "1", "yes", "是") if k in BOOLEAN_FIELDS else v
        items.append(item)
    return items


def main():
    ap = argparse.ArgumentParser(description="Sync members from a CSV file (UTF-8) into 智慧党建平台.")
    ap.add_argument("csv", help="the CSV file, header row first")
    ap.add_argument("--url", default=os.environ.get("DANGJIAN_URL", "http://127.0.0.1:8080"), help="the server (env DANGJIAN_URL)")
    ap.add_argument("--username", default=os.environ.get("DANGJIAN_USERNAME"), help="an account with committee or political_dept (env DANGJIAN_USERNAME)")
    ap.add_argument("--password", help="better: env DANGJIAN_PASSWORD (asked for when neither is given)")
    ap.add_argument("--batch-size", type=int, default=500, help="rows per request, at most 5000 (default 500)")
    ap.add_argument("--partial", action="store_true", help="apply the valid rows of a batch and list the others")
    args = ap.parse_args()
    if not args.username:
        ap.error("--username (or DANGJIAN_USERNAME) is required")
    if not 1 <= args.batch_size <= 5000:
        ap.error("--batch-size must be 1 to 5000")
    password = os.environ.get("DANGJIAN_PASSWORD") or args.password or getpass.getpass("password: ")
    base = args.url.rstrip("/")

    with open(args.csv, "rb") as f:
        content = f.read()
    file_hash = hashlib.sha256(content).hexdigest()[:16]
    rows = list(csv.DictReader(content.decode("utf-8-sig").splitlines()))
    items = items_of(rows)
    token = login(base, args.username, password)

    path = base + "/api/v1/sync/members" + ("?partial=true" if args.partial else "")
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for number, start in enumerate(range(0, len(items), args.batch_size), 1):
        batch = items[start:start + args.batch_size]
        key = "members-{}-{}-{}".format(file_hash, args.batch_size, number)
        status, body, headers = call("PUT", path, {"items": batch}, token, {"Idempotency-Key": key})
        if status == 401:  # the access token expired during a long run: log in again, same key
            token = login(base, args.username, password)
            status, body, headers = call("PUT", path, {"items": batch}, token, {"Idempotency-Key": key})
        first_line = start + 2  # the CSV's line numbers: the header is line 1
        where = "batch {} (lines {}-{})".format(number, first_line, first_line + len(batch) - 1)
        body = body or {}
        if status != 200:
            print("{}: refused ({} {}): {}".format(where, status, body.get("code"), body.get("detail")), file=sys.stderr)
            for r in body.get("rejected", []):
                for e in r["errors"]:
                    print("  line {} ({}): {} {} — {}".format(first_line + r["index"], r.get("external_id"), e["field"], e["code"], e["message_zh"]), file=sys.stderr)
            print("nothing of this batch was written; earlier batches were.", file=sys.stderr)
            return 1
        counts = {k: len(body.get(k, [])) for k in totals}
        for k in totals:
            totals[k] += counts[k]
        replayed = " (replayed: already applied before)" if headers.get("Idempotent-Replayed") == "true" else ""
        print("{}: {created} created, {updated} updated, {unchanged} unchanged, {rejected} rejected{}".format(where, replayed, **counts))
        for r in body.get("rejected", []):
            for e in r["errors"]:
                print("  line {} ({}): {} {} — {}".format(first_line + r["index"], r.get("external_id"), e["field"], e["code"], e["message_zh"]))
    print("total: {created} created, {updated} updated, {unchanged} unchanged, {rejected} rejected".format(**totals))
    return 2 if totals["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
