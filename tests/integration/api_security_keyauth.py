#!/usr/bin/env python3
"""Issue 23, finding 3: wrong secrets for a known API key SID must not drain the HTTP threads.

Against a real `serve` on SQLite:
  - keys are stored as a keyed hash ("hmac-sha256$"), never as PBKDF2, and never in clear;
  - 600 wrong-secret requests for a known key SID (not used in the last seconds, so nothing
    of it is cached) are answered 401 fast (a bound no PBKDF2 per request can meet: at ~20 ms
    each on two HTTP threads they need ~6 s or more), and an authenticated request right after
    still answers 200;
  - a key of an earlier version (PBKDF2 hash) still works, is re-hashed on its first success,
    and a flood of wrong secrets for it costs a few slow checks, not one per request;
  - 300 failures from one address against one account are two audit rows: the first, written
    at once, and one with the count of the other 299.

The timing phases spread the requests over loopback source addresses (127.0.0.X), five per
address, so the per-address failure slowdown (which only delays answers) does not hide the
server's work. The coalescing phase uses a single address.

    python3 api_security_keyauth.py build/switchboard"""
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import socket
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "api"))
from seclib import Suite  # noqa: E402

WINDOW_SETTING = {"api.audit_failure_window": "2"}
FLOOD = 600
COALESCED = 300
FLOOD_BOUND_S = 2.5  # ours ~0.2-1 s; one PBKDF2 per request needs >= 6 s on two threads


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def keyed_requests(s, path, user, password, sources, per_source):
    """per_source GETs with these credentials from each loopback source address (keep-alive,
    one connection per source, sources in parallel). Returns (statuses, seconds)."""
    def one_source(src):
        out = []
        c = http.client.HTTPConnection(s.host, s.port, timeout=30, source_address=(src, 0))
        try:
            for _ in range(per_source):
                c.request("GET", path, headers={"Authorization": basic(user, password)})
                r = c.getresponse()
                r.read()
                out.append((r.status, r.getheader("WWW-Authenticate") or ""))
        except OSError as e:
            out.append((0, str(e)))
        finally:
            c.close()
        return out

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = [x for chunk in pool.map(one_source, sources) for x in chunk]
    return results, time.monotonic() - t0


def stored_hash(s, key_sid):
    db = sqlite3.connect(f"file:{os.path.join(s.data_dir, 'switchboard.db')}?mode=ro", uri=True,
                         timeout=10)
    try:
        row = db.execute("SELECT secret_hash FROM api_keys WHERE sid = ?", (key_sid,)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def set_hash(s, key_sid, value):
    db = sqlite3.connect(os.path.join(s.data_dir, "switchboard.db"), timeout=10)
    try:
        db.execute("UPDATE api_keys SET secret_hash = ? WHERE sid = ?", (value, key_sid))
        db.commit()
    finally:
        db.close()


def pbkdf2_hash(secret, iterations=100000):
    """The format earlier versions stored (api::hashSecret)."""
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations, 32)
    return (f"pbkdf2-sha256${iterations}${base64.b64encode(salt).decode()}$"
            f"{base64.b64encode(dk).decode()}")


def main():
    s = Suite(sys.argv[1], "api_security_keyauth")
    acc = s.admin("account", "create", "--name", "A")
    ac, token = acc["sid"], acc["auth_token"]
    owner = (ac, token)
    user = s.admin("user", "add", "--account", ac, "--email", "dev@example.com", "--role",
                   "developer")
    key_sid, secret = user["api_key"]["sid"], user["api_key"]["secret"]
    legacy = s.admin("user", "add", "--account", ac, "--email", "old@example.com", "--role",
                     "developer")
    old_sid, old_secret = legacy["api_key"]["sid"], legacy["api_key"]["secret"]

    h = stored_hash(s, key_sid)
    s.check("admin user add stores the key as a keyed hash (hmac-sha256$)",
            h is not None and h.startswith("hmac-sha256$"), f"stored: {str(h)[:40]}")
    s.check("the key secret is not in the store in clear", h is not None and secret not in h)
    # A key of an earlier version: its row carries the PBKDF2 hash those versions wrote.
    set_hash(s, old_sid, pbkdf2_hash(old_secret))

    # The coalescing flood below holds COALESCED connections from one address at once, more
    # than the default http.max_connections_per_address, which would close the rest unread.
    flood_cap = {"http.max_connections_per_address": str(COALESCED + 16)}
    if not s.start(settings={**WINDOW_SETTING, **flood_cap}, expect_ok=False):
        s.check("serve knows api.audit_failure_window", False, s.serve_err.strip()[-200:])
        s.start()
    wrong = secret[:-1] + ("1" if secret[-1] == "0" else "0")
    numbers = f"/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers.json"

    # --- wrong secrets for a known key SID --------------------------------------------
    sources = [f"127.0.0.{10 + i}" for i in range(FLOOD // 5)]
    results, took = keyed_requests(s, numbers, key_sid, wrong, sources, 5)
    print(f"     {FLOOD} wrong secrets for a known key SID: {took:.2f} s", flush=True)
    s.check(f"{FLOOD} wrong-secret requests are all answered 401 with WWW-Authenticate",
            len(results) == FLOOD and all(r[0] == 401 and r[1].startswith("Basic")
                                          for r in results),
            f"statuses {sorted(set(r[0] for r in results))} of {len(results)}")
    s.check(f"{FLOOD} wrong-secret requests complete within {FLOOD_BOUND_S} s (no slow hash per "
            f"request)", took < FLOOD_BOUND_S, f"took {took:.2f} s")
    t0 = time.monotonic()
    try:
        st, _, _ = s.request("GET", numbers, auth=(key_sid, secret))
    except OSError as e:
        st = str(e)
    s.check("an authenticated request right after answers 200", st == 200, f"got {st}")
    s.check("... within 0.5 s", time.monotonic() - t0 < 0.5,
            f"took {time.monotonic() - t0:.2f} s")

    # --- a key of an earlier version ------------------------------------------------------
    old_wrong = old_secret[:-1] + ("1" if old_secret[-1] == "0" else "0")
    results, took = keyed_requests(s, numbers, old_sid, old_wrong,
                                   [f"127.0.1.{10 + i}" for i in range(FLOOD // 5)], 5)
    print(f"     {FLOOD} wrong secrets for a legacy (PBKDF2) key SID: {took:.2f} s", flush=True)
    s.check(f"{FLOOD} wrong secrets for a legacy key are refused (401)",
            len(results) == FLOOD and all(r[0] == 401 for r in results),
            f"statuses {sorted(set(r[0] for r in results))}")
    s.check(f"... within {FLOOD_BOUND_S} s: its slow check is budgeted", took < FLOOD_BOUND_S,
            f"took {took:.2f} s")
    s.check("the legacy key is still stored as PBKDF2 before its first success",
            (stored_hash(s, old_sid) or "").startswith("pbkdf2-sha256$"))
    # Its budget refills (api.legacy_key_checks per second); the right secret then works.
    st = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        st, _, _ = s.request("GET", numbers, auth=(old_sid, old_secret), timeout=15)
        if st == 200:
            break
        time.sleep(0.3)
    s.check("the legacy key's right secret answers 200", st == 200, f"got {st}")
    h = stored_hash(s, old_sid) or ""
    s.check("the legacy key is re-hashed to hmac-sha256$ on its success",
            h.startswith("hmac-sha256$"), f"stored: {h[:40]}")

    # --- the audit log: one row for a flood from one address ------------------------------
    src = "127.0.0.250"
    socks = []
    req = (f"GET {numbers} HTTP/1.1\r\nHost: x\r\nAuthorization: {basic(key_sid, wrong)}\r\n"
           f"\r\n").encode()
    for _ in range(COALESCED):  # fire and forget: the answers are slowed down, the work is not
        c = socket.create_connection((s.host, s.port), timeout=5, source_address=(src, 0))
        c.sendall(req)
        socks.append(c)
    rows = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            st, _, body = s.api("GET", f"/Accounts/{ac}/AuditEvents.json?PageSize=1000", owner)
        except OSError:  # busy serving the flood
            continue
        if st == 200:
            rows = [e for e in body["audit_events"] if e["source"] == src]
            if sum(e.get("count", 1) for e in rows) >= COALESCED:
                break
        time.sleep(0.25)
    for c in socks:
        c.close()
    counts = [e.get("count") for e in rows]
    # Newest first: the count of the rest, then the first failure, written at once.
    s.check(f"{COALESCED} failures from one address are two audit rows: the first at once, then "
            f"one with count {COALESCED - 1}",
            len(rows) == 2 and counts == [COALESCED - 1, 1],
            f"{len(rows)} rows, counts {counts[:5]}{'...' if len(counts) > 5 else ''}")
    if rows:
        e = rows[0]
        s.check("the row says what was refused (401, the key SID, the path)",
                e["status"] == 401 and e["principal"] == key_sid and e["path"] == numbers,
                json.dumps(e))
    s.finish()


if __name__ == "__main__":
    main()
