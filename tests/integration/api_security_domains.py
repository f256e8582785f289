#!/usr/bin/env python3
"""Issue 23, finding 1: a tenant must not take over SIP domain names it does not own.

    api_security_domains.py SWITCHBOARD [OLDER_SWITCHBOARD]

Part 1, a fresh store: the operator serves opdomain.test (sip.domains) with alice provisioned
by `admin sip-user add`, account B owns bdomain.test (`--account B`). A developer key of account
A cannot create or rename a SIP Domain onto either name (400, Twilio's 21231, a message that
names no owner), B can use its own; `admin sip-user add` refuses a name of someone else;
`admin sip-domain list|assign|release|evict` show and change owners and remove what
others hold on a name.

Part 2, a store squatted by an older version: OLDER_SWITCHBOARD (or $SB_OLDER_BINARY, a build
from before the fix, whose API lets A squat) provisions the
same names and lets A map eve to opdomain.test and bdomain.test; then SWITCHBOARD serves the
same data_dir: eve@opdomain.test no longer registers, alice still does, and serve's start-up
warning names both squatted names. Without an older binary the squatted rows are written into
the store directly, as the older version wrote them."""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "api"))
from seclib import Suite  # noqa: E402

SIPTOOL = os.path.join(here, "sip", "siptool.py")
EVE_PASSWORD = "Squat1234567x"


def register(s, user, password, domain):
    """The status of the REGISTER that answers the challenge (or of the first, unchallenged)."""
    p = subprocess.run([sys.executable, SIPTOOL, "register", "--server", "udp:" + s.sip_udp,
                        "--user", user, "--password", password, "--domain", domain],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return f"siptool failed: {p.stderr.strip()}"
    return json.loads(p.stdout)["steps"][-1]["status"]


def setup_tenants(s):
    """Accounts A and B, a developer key of each, the operator's alice on opdomain.test and
    B's bob on bdomain.test, as the issue's audit had them."""
    a = s.admin("account", "create", "--name", "A")
    b = s.admin("account", "create", "--name", "B")
    keys = {}
    for name, acc in (("A", a), ("B", b)):
        u = s.admin("user", "add", "--account", acc["sid"], "--email", f"dev@{name}.test",
                    "--role", "developer")
        keys[name] = (u["api_key"]["sid"], u["api_key"]["secret"])
    s.admin("sip-user", "add", "--domain", "opdomain.test", "--user", "alice", "--password",
            "alicepw")
    s.admin("sip-user", "add", "--domain", "bdomain.test", "--user", "bob", "--password",
            "bobpw", "--account", b["sid"])
    return a, b, keys


def admin_json(s, *args):
    """`admin ARGS` as parsed JSON; None when it fails (a check then says so)."""
    code, out, err = s.admin(*args, expect_ok=False)
    if code != 0:
        print(f"info admin {' '.join(args)} exited {code}: {err.strip()[:200]}")
        return None
    try:
        return json.loads(out)
    except ValueError:
        return None


def create_domain(s, account, key, name):
    return s.api("POST", f"/Accounts/{account['sid']}/SIP/Domains.json", key,
                 form={"DomainName": name})


def part1(binary):
    s = Suite(binary, "api_security_domains", {"sip.domains": "opdomain.test"})
    a, b, keys = setup_tenants(s)
    code, _, err = s.admin("sip-user", "add", "--domain", "opdomain.test", "--user", "mallory",
                           "--password", "pw", "--account", a["sid"], expect_ok=False)
    s.check("admin sip-user add --account on the operator's domain is refused", code == 1 and
            "belongs to the operator" in err, f"exit {code}: {err.strip()}")
    code, _, err = s.admin("sip-user", "add", "--domain", "BDOMAIN.test", "--user", "mallory",
                           "--password", "pw", expect_ok=False)
    s.check("admin sip-user add by the operator on B's domain is refused", code == 1 and
            f"belongs to account {b['sid']}" in err, f"exit {code}: {err.strip()}")
    s.start()
    for name in ("opdomain.test", "bdomain.test", "OpDomain.TEST"):
        st, _, body = create_domain(s, a, keys["A"], name)
        body = body if isinstance(body, dict) else {}
        msg = str(body.get("message", ""))
        s.check(f"A's developer key cannot create SIP Domain {name}: 400 21231 'not available'",
                st == 400 and body.get("code") == 21231 and "not available" in msg,
                f"got {st} {body}")
        s.check(f"the refusal of {name} does not say who owns it",
                "operator" not in msg and b["sid"] not in msg and "account" not in msg, msg)
    st, _, mine = create_domain(s, a, keys["A"], "adomain.test")
    s.check("A creates a SIP Domain on a free name", st == 201, f"got {st} {mine}")
    if st == 201:
        st, _, body = s.api("POST", f"/Accounts/{a['sid']}/SIP/Domains/{mine['sid']}.json",
                            keys["A"], form={"DomainName": "opdomain.test"})
        s.check("A cannot rename its SIP Domain onto the operator's name (400 21231)",
                st == 400 and isinstance(body, dict) and body.get("code") == 21231,
                f"got {st} {body}")
    st, _, body = create_domain(s, b, keys["B"], "bdomain.test")
    s.check("B creates a SIP Domain on its own name", st == 201, f"got {st} {body}")
    st, _, body = create_domain(s, b, keys["B"], "adomain.test")
    s.check("B cannot create A's name", st == 400 and isinstance(body, dict) and
            body.get("code") == 21231, f"got {st} {body}")
    st1 = register(s, "alice", "alicepw", "opdomain.test")
    s.check("alice@opdomain.test registers", st1 == 200, f"got {st1}")

    listed = admin_json(s, "sip-domain", "list")
    by_name = {d["domain"]: d for d in listed} if isinstance(listed, list) else {}
    op = by_name.get("opdomain.test", {})
    s.check("sip-domain list: opdomain.test is the operator's, from the configuration",
            op.get("owner") == "operator" and op.get("in_config") is True, f"{listed}")
    s.check("sip-domain list: bdomain.test is B's, adomain.test is A's",
            by_name.get("bdomain.test", {}).get("account_sid") == b["sid"] and
            by_name.get("adomain.test", {}).get("account_sid") == a["sid"], f"{listed}")
    code, _, err = s.admin("sip-domain", "assign", "--domain", "opdomain.test", "--account",
                           a["sid"], expect_ok=False)
    s.check("sip-domain assign of a configured name to an account is refused", code == 1,
            f"exit {code}: {err.strip()}")
    moved = admin_json(s, "sip-domain", "assign", "--domain", "bdomain.test", "--account", a["sid"])
    s.check("sip-domain assign moves bdomain.test to A and says it was B's",
            isinstance(moved, dict) and moved.get("account_sid") == a["sid"] and
            (moved.get("previous") or {}).get("account_sid") == b["sid"], f"{moved}")
    back = admin_json(s, "sip-domain", "assign", "--domain", "bdomain.test", "--account", b["sid"])
    s.check("and back to B", isinstance(back, dict) and back.get("account_sid") == b["sid"],
            f"{back}")
    code, out, _ = s.admin("sip-domain", "release", "--domain", "spare.test", expect_ok=False)
    s.check("sip-domain release of a name nobody owns exits 1", code == 1, f"exit {code} {out}")
    admin_json(s, "sip-domain", "assign", "--domain", "spare.test", "--operator")
    freed = admin_json(s, "sip-domain", "release", "--domain", "spare.test")
    s.check("sip-domain release frees an owned name", isinstance(freed, dict) and
            freed.get("released") is True, f"{freed}")
    st, _, body = create_domain(s, a, keys["A"], "spare.test")
    s.check("a released name can be created by an account", st == 201, f"got {st} {body}")
    s.stop()
    return s


def squat_directly(s, a):
    """The rows the older API wrote when A mapped eve to opdomain.test and bdomain.test."""
    db = sqlite3.connect(os.path.join(s.data_dir, "switchboard.db"))
    for n, name in ((1, "opdomain.test"), (2, "bdomain.test")):
        sd = "SD" + str(n).zfill(32)
        db.execute("INSERT INTO sip_domains (domain, realm, mode, account_sid)"
                   " VALUES (?, ?, 'proxy', ?)", (name, name, a["sid"]))
        db.execute("INSERT INTO api_sip_domains (sid, account_sid, domain_name, friendly_name,"
                   " voice_url, voice_method, voice_fallback_url, voice_fallback_method,"
                   " voice_status_callback_url, voice_status_callback_method,"
                   " sip_registration, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, '', 'POST', '', 'POST', '', 'POST', 1, 1, 1)",
                   (sd, a["sid"], name, name))
        md5 = hashlib.md5(f"eve:{name}:{EVE_PASSWORD}".encode()).hexdigest()
        sha = hashlib.sha256(f"eve:{name}:{EVE_PASSWORD}".encode()).hexdigest()
        db.execute("INSERT INTO sip_credentials (domain, username, ha1_md5, ha1_sha256,"
                   " account_sid, created_at, derived_from) VALUES (?, 'eve', ?, ?, ?, 1, ?)",
                   (name, md5, sha, a["sid"], "CR" + "1".zfill(32)))
    db.commit()
    db.close()


def squat_with(s, a, key):
    """A's developer key, through the older binary's API: both names, eve mapped to each."""
    base = f"/Accounts/{a['sid']}/SIP"
    st, _, cl = s.api("POST", base + "/CredentialLists.json", key, form={"FriendlyName": "x"})
    if st != 201:
        s.fatal(f"the older binary refused a credential list: {st} {cl}")
    st, _, cr = s.api("POST", f"{base}/CredentialLists/{cl['sid']}/Credentials.json", key,
                      form={"Username": "eve", "Password": EVE_PASSWORD})
    if st != 201:
        s.fatal(f"the older binary refused eve: {st} {cr}")
    for name in ("opdomain.test", "bdomain.test"):
        st, _, sd = create_domain(s, a, key, name)
        if st != 201:
            s.fatal(f"the older binary did not let A squat {name} ({st} {sd}): not a baseline")
        st, _, m = s.api("POST", f"{base}/Domains/{sd['sid']}/CredentialListMappings.json", key,
                         form={"CredentialListSid": cl["sid"]})
        if st != 201:
            s.fatal(f"the older binary refused the mapping: {st} {m}")
    st = register(s, "eve", EVE_PASSWORD, "opdomain.test")
    print(f"info the older binary answers eve@opdomain.test's REGISTER with {st}")


def part2(binary, older):
    s = Suite(binary, "api_security_domains", {"sip.domains": "opdomain.test"})
    if older:
        s.bin = older
    a, b, keys = setup_tenants(s)
    if older:
        s.start()
        squat_with(s, a, keys["A"])
        s.stop()
        s.bin = binary
    else:
        print("info no older binary: the squatted rows are written into the store directly")
        squat_directly(s, a)
    # Whatever modes the older version left, the data is the operator's alone.
    os.chmod(s.data_dir, 0o700)
    for f in os.listdir(s.data_dir):
        os.chmod(os.path.join(s.data_dir, f), 0o600)
    s.start()
    st = register(s, "eve", EVE_PASSWORD, "opdomain.test")
    s.check("eve@opdomain.test, squatted in the older store, no longer registers",
            st in (401, 403), f"got {st}")
    st = register(s, "alice", "alicepw", "opdomain.test")
    s.check("alice@opdomain.test still registers", st == 200, f"got {st}")
    warnings = [line for line in s.serve_stderr().splitlines()
                if "opdomain.test" in line and "bdomain.test" in line]
    s.check("serve names both squatted domains in one warning at start-up", len(warnings) == 1,
            s.serve_stderr()[-1500:])
    listed = admin_json(s, "sip-domain", "list")
    by_name = {d["domain"]: d for d in listed} if isinstance(listed, list) else {}
    held = by_name.get("opdomain.test", {}).get("not_the_owners", [])
    s.check("sip-domain list shows A's rows on the operator's opdomain.test",
            any(h.get("account_sid") == a["sid"] and h.get("credentials") == 1 for h in held),
            f"{listed}")
    s.check("sip-domain list: bdomain.test stays B's",
            by_name.get("bdomain.test", {}).get("account_sid") == b["sid"], f"{listed}")
    # B cannot create its own SIP Domain while A's squatted one sits on the name; the operator
    # evicts it, and then B can.
    b_token = (b["sid"], b["auth_token"])
    st, _, _ = create_domain(s, b, b_token, "bdomain.test")
    s.check("B's own SIP Domain on bdomain.test is refused while A's squatted one is there",
            st == 400, f"got {st}")
    evicted = admin_json(s, "sip-domain", "evict", "--domain", "bdomain.test")
    removed = evicted.get("removed", []) if isinstance(evicted, dict) else []
    s.check("sip-domain evict removes A's SIP Domain on bdomain.test and says so",
            any(r.get("account_sid") == a["sid"] and r.get("sip_domain_sid", "").startswith("SD")
                for r in removed), f"{evicted}")
    st, _, body = create_domain(s, b, b_token, "bdomain.test")
    s.check("after the eviction B creates its own SIP Domain on bdomain.test", st == 201,
            f"got {st} {body}")
    listed = admin_json(s, "sip-domain", "list")
    by_name = {d["domain"]: d for d in listed} if isinstance(listed, list) else {}
    s.check("sip-domain list: nothing of others' is left on bdomain.test",
            by_name.get("bdomain.test", {}).get("not_the_owners") == [], f"{listed}")
    s.stop()
    return s


def main():
    binary = sys.argv[1]
    # An older binary (before owners existed) builds the squatted store through its own API
    # when given (argument or SB_OLDER_BINARY); else the rows are written into SQLite directly.
    older = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SB_OLDER_BINARY", "")
    if not older or not os.access(older, os.X_OK):
        older = None
    first = part1(binary)
    second = part2(binary, older)
    second.passed += first.passed
    second.failed = first.failed + second.failed
    second.finish()


if __name__ == "__main__":
    main()
