"""Issue 23, finding 5 and two of its expectations, against a real `switchboard serve`:
suspended and closed subaccounts are read-only through their parent (403, code 20005) but for
the parent's status change of a suspended one; keys and users are managed by rank (an admin
does not delete the owner's key) and an account keeps its last owner user; auth tokens rotate
as Twilio's do (a secondary beside the primary, then promotion, after which the old primary
is refused at once), through the API and `admin account rotate-token`.

    python3 api_security_tenancy.py path/to/switchboard"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "api"))
from seclib import Suite  # noqa: E402


def brief(body):
    text = str(body)
    return text if len(text) <= 160 else text[:160] + "..."


def code_of(body):
    return body.get("code") if isinstance(body, dict) else None


def rotate(s, account, *flags):
    """`admin account rotate-token`: its JSON, or {"error": ...} when it failed."""
    rc, out, err = s.admin("account", "rotate-token", "--account", account, *flags,
                           expect_ok=False)
    if rc != 0:
        return {"error": f"exit {rc}: {err.strip()[:200]}"}
    try:
        return json.loads(out)
    except ValueError:
        return {"error": out[:200]}


def main():
    s = Suite(sys.argv[1], "api_security_tenancy")
    parent = s.admin("account", "create", "--name", "Parent")
    P = parent["sid"]
    owner = (P, parent["auth_token"])
    other = s.admin("account", "create", "--name", "Other")
    # One user (with its key) per role of interest.
    users = {}
    for name, role in (("owner", "owner"), ("admin", "admin"), ("developer", "developer"),
                       ("admin2", "admin")):
        users[name] = s.admin("user", "add", "--account", P, "--email", f"{name}@example.com",
                              "--role", role)
    s.start()

    def key_auth(role):
        k = users[role]["api_key"]
        return (k["sid"], k["secret"])

    def refused_inactive(what, st, body):
        s.check(what + " is refused with 403 and code 20005", st == 403 and code_of(body) == 20005,
                f"got {st} {brief(body)}")

    # --- finding 5: closed and suspended subaccounts, through the parent ----------------------
    subs = {}
    for name in ("closed", "suspended"):
        st, _, body = s.api("POST", "/Accounts.json", owner, {"FriendlyName": name})
        if st != 201:
            s.fatal(f"creating subaccount {name}: {st} {body}")
        subs[name] = body
        st, _, body = s.api("POST", f"/Accounts/{body['sid']}/IncomingPhoneNumbers.json", owner,
                            {"PhoneNumber": "+1555200000" + ("1" if name == "closed" else "2")})
        if st != 201:
            s.fatal(f"a number for {name}: {st} {body}")
    C, S = subs["closed"]["sid"], subs["suspended"]["sid"]
    for sid, status in ((C, "closed"), (S, "suspended")):
        st, _, body = s.api("POST", f"/Accounts/{sid}.json", owner, {"Status": status})
        s.check(f"the parent sets its subaccount {status}", st == 200 and body["status"] == status,
                f"got {st} {brief(body)}")

    for sid, name, number in ((C, "closed", "+15552000001"), (S, "suspended", "+15552000002")):
        st, _, body = s.api("POST", f"/Accounts/{sid}/Messages.json", owner,
                            {"From": number, "To": "+15559870001", "Body": "hi"})
        refused_inactive(f"{name}: a message sent by the parent", st, body)
        st, _, body = s.api("POST", f"/Accounts/{sid}/IncomingPhoneNumbers.json", owner,
                            {"PhoneNumber": "+1555201000" + ("1" if name == "closed" else "2")})
        refused_inactive(f"{name}: a number added by the parent", st, body)
        st, _, body = s.api("POST", f"/Accounts/{sid}/Keys.json", owner, {"FriendlyName": "k"})
        refused_inactive(f"{name}: an API key created by the parent", st, body)
        st, _, body = s.api("POST", f"/Accounts/{sid}/SIP/CredentialLists.json", owner,
                            {"FriendlyName": "l"})
        refused_inactive(f"{name}: a SIP credential list created by the parent", st, body)
        st, _, body = s.api("POST", f"/Accounts/{sid}.json", owner, {"FriendlyName": "renamed"})
        refused_inactive(f"{name}: a rename by the parent", st, body)
        st, _, body = s.api("GET", f"/Accounts/{sid}.json", owner)
        s.check(f"{name}: the parent reads it", st == 200 and body["status"] == name,
                f"got {st} {brief(body)}")
        st, _, body = s.api("GET", f"/Accounts/{sid}/IncomingPhoneNumbers.json", owner)
        s.check(f"{name}: the parent lists its numbers",
                st == 200 and len(body["incoming_phone_numbers"]) == 1, f"got {st} {brief(body)}")
    st, _, body = s.api("POST", f"/Accounts/{C}.json", owner, {"Status": "active"})
    refused_inactive("closed: re-activation by the parent", st, body)
    st, _, body = s.api("POST", f"/Accounts/{S}.json", owner, {"Status": "active"})
    s.check("suspended: the parent re-activates it", st == 200 and body["status"] == "active",
            f"got {st} {brief(body)}")
    st, _, body = s.api("POST", f"/Accounts/{S}/IncomingPhoneNumbers.json", owner,
                        {"PhoneNumber": "+15552010002"})
    s.check("re-activated: the parent adds a number again", st == 201, f"got {st} {brief(body)}")

    # --- rank: keys and users ----------------------------------------------------------------
    admin, dev = key_auth("admin"), key_auth("developer")
    owner_key = users["owner"]["api_key"]["sid"]
    st, _, body = s.api("DELETE", f"/Accounts/{P}/Keys/{owner_key}.json", admin)
    s.check("an admin key cannot delete the owner's key (403)", st == 403, f"got {st} {brief(body)}")
    st, _, _ = s.api("GET", f"/Accounts/{P}.json", key_auth("owner"))
    s.check("the owner's key still works", st == 200, f"got {st}")
    dev_key = users["developer"]["api_key"]["sid"]
    st, _, body = s.api("DELETE", f"/Accounts/{P}/Keys/{dev_key}.json", admin)
    s.check("an admin key deletes a developer's key (204)", st == 204, f"got {st} {brief(body)}")
    st, _, _ = s.api("GET", f"/Accounts/{P}.json", dev)
    s.check("the deleted developer key is refused (401)", st == 401, f"got {st}")
    owner_user = users["owner"]["sid"]
    st, _, body = s.api("DELETE", f"/Accounts/{P}/Users/{owner_user}.json", admin)
    s.check("an admin key cannot delete the owner user (403)", st == 403, f"got {st} {brief(body)}")
    st, _, body = s.api("POST", f"/Accounts/{P}/Users/{owner_user}.json", admin,
                        {"Role": "read-only"})
    s.check("an admin key cannot demote the owner user (403)", st == 403, f"got {st} {brief(body)}")
    st, _, body = s.api("DELETE", f"/Accounts/{P}/Users/{owner_user}.json", owner)
    s.check("the last owner user is not deleted (400)", st == 400, f"got {st} {brief(body)}")
    admin_user = users["admin"]["sid"]
    st, _, body = s.api("POST", f"/Accounts/{P}/Users/{admin_user}.json", owner,
                        {"Role": "read-only"})
    s.check("the owner re-roles the admin user to read-only",
            st == 200 and isinstance(body, dict) and body.get("role") == "read-only",
            f"got {st} {brief(body)}")
    st, _, body = s.api("POST", f"/Accounts/{P}/Keys.json", admin, {"FriendlyName": "x"})
    s.check("the re-roled user's key lost keys:write at once (403)", st == 403,
            f"got {st} {brief(body)}")
    st, _, body = s.api("DELETE", f"/Accounts/{P}/Users/{admin_user}.json", owner)
    s.check("the owner deletes a user (204)", st == 204, f"got {st} {brief(body)}")
    st, _, _ = s.api("GET", f"/Accounts/{P}.json", admin)
    s.check("a deleted user's key is refused (401)", st == 401, f"got {st}")

    # --- rotation through the API ------------------------------------------------------------
    st, _, body = s.request("POST", "/v1/AuthTokens/Secondary", auth=key_auth("admin2"), form={})
    s.check("an admin key cannot create a secondary token (403)", st == 403, f"got {st} {brief(body)}")
    st, _, body = s.request("POST", "/v1/AuthTokens/Secondary", auth=key_auth("owner"), form={})
    s.check("an owner key creates a secondary token (201)",
            st == 201 and isinstance(body, dict) and body.get("account_sid") == P and
            len(body.get("secondary_auth_token") or "") >= 32, f"got {st} {brief(body)}")
    secondary = body.get("secondary_auth_token") if isinstance(body, dict) else None
    if secondary:
        st, _, _ = s.api("GET", f"/Accounts/{P}.json", (P, secondary))
        s.check("the secondary token works", st == 200, f"got {st}")
        st, _, _ = s.api("GET", f"/Accounts/{P}.json", owner)
        s.check("the primary still works beside it", st == 200, f"got {st}")
    st, _, body = s.request("POST", "/v1/AuthTokens/Promote", auth=owner, form={})
    s.check("the owner promotes the secondary (200)",
            st == 200 and isinstance(body, dict) and body.get("auth_token") == secondary,
            f"got {st} {brief(body)}")
    st, _, _ = s.api("GET", f"/Accounts/{P}.json", owner)
    s.check("the old primary is refused at once after promotion (401)", st == 401, f"got {st}")
    if secondary:
        owner = (P, secondary)
        st, _, _ = s.api("GET", f"/Accounts/{P}.json", owner)
        s.check("the promoted token works", st == 200, f"got {st}")

    # --- rotation from the command line -----------------------------------------------------
    O = other["sid"]
    st, _, _ = s.api("GET", f"/Accounts/{O}.json", (O, other["auth_token"]))
    s.check("the other account's token works before its rotation", st == 200, f"got {st}")
    made = rotate(s, O)
    new = made.get("secondary_auth_token")
    s.check("admin account rotate-token prints a secondary token", bool(new), f"got {made}")
    promoted = rotate(s, O, "--promote")
    s.check("admin account rotate-token --promote prints it as the auth token",
            promoted.get("auth_token") == new, f"got {promoted}")
    deadline, st = time.time() + 10, None
    while time.time() < deadline:
        st, _, _ = s.api("GET", f"/Accounts/{O}.json", (O, other["auth_token"]))
        if st == 401:
            break
        time.sleep(0.2)
    s.check("serve refuses the old primary after a command-line promotion", st == 401,
            f"got {st}")
    st, _, body = s.api("GET", f"/Accounts/{O}/AuditEvents.json", (O, new or "x"))
    paths = [(e["principal"], e["path"]) for e in body.get("audit_events", [])] \
        if isinstance(body, dict) else []
    s.check("both command-line rotations are in the account's audit log",
            ("admin", "/v1/AuthTokens/Secondary") in paths and
            ("admin", "/v1/AuthTokens/Promote") in paths, f"got {st} {paths}")
    s.finish()


if __name__ == "__main__":
    main()
