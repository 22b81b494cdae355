#!/usr/bin/env python3
"""Moving off an "Okta org" in one command, proved end to end.

A first gatehouse plays the source org (it serves Okta's management and Authentication APIs).
It is seeded through its /api/v1 like an Okta org: 300 users (so listing them takes pages),
groups, a confidential web app with a client secret, a single-page app, a custom authorization
server with a groups claim and an access policy rule, and a trusted origin. Then

  1. `gatehouse import okta --dry-run` into a fresh gatehouse prints the plan and writes nothing;
  2. `gatehouse import okta` carries everything over (same user ids, client ids and server ids);
  3. a rerun creates nothing and duplicates nothing;
  4. social-auth-core (NetBox's Okta backend), configured with the *source's* client id and
     secret and only the URL changed, signs Jane in at the new gatehouse with the password she
     had at the source; the id_token carries the groups claim of the imported server;
  5. the source's System Log shows exactly one sign-in of Jane (the password check through its
     /api/v1/authn), and a second sign-in at the new gatehouse does not ask the source again;
  6. the server's groups claim, policy and rule and the service app's Okta API scope grant are
     there; the service app gets a token with its old private key; the SPA signs in with
     okta-auth-js and the source's client id, still without asking the source (extra.py);
  7. after changes at the source (a group changed, a user added, a user and a trusted origin
     deleted) a dry run plans them and writes nothing, `--deleted deactivate` updates, adds and
     deactivates, `--deleted remove` removes, and a last rerun has nothing left to do.

Prints `PASS <step>` / `FAIL <step>: <reason>` and `RESULT <passed>/<total>`; exits non-zero on a
failure. Run with the python of a social-auth-core virtualenv.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "socialcore"))

from browser import Browser  # noqa: E402
from gatehouse import Gatehouse, _child_env  # noqa: E402
from netbox_sim import SOCIAL_CORE_MAJOR, NetBoxSite, redirect_uri  # noqa: E402

sys.path.insert(0, str(HERE))
import extra  # noqa: E402

OKTA = "okta-openidconnect"
JANE = {"login": "jdoe@example.com", "firstName": "Jane", "lastName": "Doe", "password": "S0urce-Passw0rd!"}
USERS = 300
IMPORT_TIMEOUT = 600


class Failure(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


class Api:
    """The source's /api/v1 with an SSWS token; waits out 429s as Okta's SDKs do."""

    def __init__(self, origin: str, token: str) -> None:
        self.origin = origin
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"SSWS {token}", "Accept": "application/json"})

    def call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        for _ in range(20):
            res = self.http.request(method, self.origin + path, json=body, timeout=60)
            if res.status_code != 429:
                return res
            reset = int(res.headers.get("X-Rate-Limit-Reset", "0") or 0)
            time.sleep(min(max(reset - time.time(), 1), 60))
        return res

    def json(self, method: str, path: str, body: dict | None = None) -> dict | list:
        res = self.call(method, path, body)
        expect(res.ok, f"{method} {path}: {res.status_code} {res.text[:300]}")
        return res.json() if res.content else {}


def seed(api: Api, origin: str, spa_port: int) -> dict:
    """The source org, through its management API."""
    jane = api.json(
        "POST",
        "/api/v1/users?activate=true",
        {
            "profile": {k: JANE[k] for k in ("login", "firstName", "lastName")} | {"email": JANE["login"]},
            "credentials": {"password": {"value": JANE["password"]}},
        },
    )
    for n in range(USERS - 1):
        login = f"user{n:03d}@example.com"
        # Most users were created without a password here (as in an org whose users set theirs
        # at activation): the import is about their records.
        api.json(
            "POST",
            "/api/v1/users?activate=false",
            {"profile": {"login": login, "email": login, "firstName": "User", "lastName": f"N{n:03d}"}},
        )
    engineering = api.json("POST", "/api/v1/groups", {"profile": {"name": "Engineering", "description": "Builders"}})
    api.json("PUT", f"/api/v1/groups/{engineering['id']}/users/{jane['id']}")
    web = api.json(
        "POST",
        "/api/v1/apps",
        {
            "name": "oidc_client",
            "label": "NetBox",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "redirect_uris": [redirect_uri(OKTA)],
                    "response_types": ["code"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "application_type": "web",
                }
            },
        },
    )
    api.json("PUT", f"/api/v1/apps/{web['id']}/groups/{engineering['id']}", {"priority": 0})
    spa = api.json(
        "POST",
        "/api/v1/apps",
        {
            "name": "oidc_client",
            "label": "Portal SPA",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "none"}},
            "settings": {"oauthClient": extra.spa_oauth_settings(spa_port)},
        },
    )
    everyone = next(g for g in api.json("GET", "/api/v1/groups?q=Everyone") if g["profile"]["name"] == "Everyone")
    api.json("PUT", f"/api/v1/apps/{spa['id']}/groups/{everyone['id']}", {})
    server = api.json(
        "POST",
        "/api/v1/authorizationServers",
        {"name": "Imported API", "description": "A custom server", "audiences": ["api://imported"]},
    )
    base = f"/api/v1/authorizationServers/{server['id']}"
    api.json("POST", f"{base}/scopes", {"name": "inventory:read", "consent": "IMPLICIT", "metadataPublish": "ALL_CLIENTS"})
    api.json(
        "POST",
        f"{base}/claims",
        {
            "name": "groups",
            "status": "ACTIVE",
            "claimType": "IDENTITY",
            "valueType": "GROUPS",
            "group_filter_type": "STARTS_WITH",
            "value": "Eng",
            "alwaysIncludeInToken": True,
            "conditions": {"scopes": []},
        },
    )
    policy = api.json(
        "POST",
        f"{base}/policies",
        {
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "name": "Engineering apps",
            "description": "Engineers sign in to the web app",
            "priority": 1,
            "status": "ACTIVE",
            "conditions": {"clients": {"include": [web["credentials"]["oauthClient"]["client_id"]]}},
        },
    )
    api.json(
        "POST",
        f"{base}/policies/{policy['id']}/rules",
        {
            "type": "RESOURCE_ACCESS",
            "name": "Engineers",
            "priority": 1,
            "status": "ACTIVE",
            "conditions": {
                "people": {"groups": {"include": [engineering["id"]], "exclude": []}},
                "grantTypes": {"include": ["authorization_code"]},
                "scopes": {"include": ["*"]},
            },
            "actions": {"token": {"accessTokenLifetimeMinutes": 30}},
        },
    )
    api.json(
        "POST",
        "/api/v1/trustedOrigins",
        {"name": "Portal", "origin": "https://portal.example.com", "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}]},
    )
    extra.seed_spa_origin(api, spa_port)
    return extra.seed_service_app(api, origin) | {
        "spa_port": spa_port,
        "jane_id": jane["id"],
        "web_client_id": web["credentials"]["oauthClient"]["client_id"],
        "web_client_secret": web["credentials"]["oauthClient"]["client_secret"],
        "spa_client_id": spa["credentials"]["oauthClient"]["client_id"],
        "server_id": server["id"],
    }


def source_sign_ins(api: Api) -> int:
    """Jane's sign-ins the source recorded (each /api/v1/authn with her password is one)."""
    flt = f'eventType eq "user.session.start" and actor.alternateId eq "{JANE["login"]}"'
    events = api.json("GET", "/api/v1/logs?" + requests.compat.urlencode({"filter": flt, "since": "2000-01-01T00:00:00Z", "limit": "1000"}))
    return sum(1 for e in events if e.get("outcome", {}).get("result") == "SUCCESS")


def run_import(binary: str, target: Gatehouse, org: str, token: str, seeded: dict, *extra: str) -> str:
    command = [
        binary, *target._global_options(), "import", "okta", "--org-url", org,
        "--client-secret", f"{seeded['web_client_id']}={seeded['web_client_secret']}", *extra,
    ]  # fmt: skip
    env = _child_env() | {"GATEHOUSE_IMPORT_TOKEN": token}
    done = subprocess.run(command, capture_output=True, text=True, timeout=IMPORT_TIMEOUT, env=env, stdin=subprocess.DEVNULL)
    expect(done.returncode == 0, f"import exited {done.returncode}: {done.stderr[-2000:]} {done.stdout[-2000:]}")
    expect(token not in done.stdout + done.stderr, "the import printed the API token")
    return done.stdout + done.stderr


def report_counts(output: str) -> dict[str, tuple[int, int, int, int]]:
    counts = {}
    for line in output.splitlines():
        words = line.split()
        if "unchanged" in words and "carried" in words:
            nums = [int(w) for w in words if w.isdigit()]
            kind = line.strip().split("  ")[0].strip()
            if len(nums) == 4:
                counts[kind] = tuple(nums)
    return counts


def sign_in_netbox(origin: str, seeded: dict):
    """NetBox's Okta backend with the source's client id and secret; only the URL changed."""
    site = NetBoxSite(
        {
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY": seeded["web_client_id"],
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET": seeded["web_client_secret"],
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL": f"{origin}/oauth2/{seeded['server_id']}/",
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SCOPE": ["groups"],
        }
    )
    url = site.begin(OKTA)
    departure = Browser(origin).sign_in(url, JANE["login"], JANE["password"])
    expect(departure.url.startswith(redirect_uri(OKTA) + "?"), f"the IdP redirected to {departure.url}")
    expect("code=" in departure.url, f"no code: {departure.url}")
    return site.complete(OKTA, departure.url)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gatehouse", required=True)
    parser.add_argument("--source-database-url")
    parser.add_argument("--target-database-url")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gh-okta-import-"))
    source = Gatehouse(args.gatehouse, work / "source", work / "source.log", args.source_database_url)
    target = Gatehouse(args.gatehouse, work / "target", work / "target.log", args.target_database_url)
    results: list[tuple[str, str | None]] = []
    state: dict = {}

    def step(name: str, fn) -> bool:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
            results.append((name, f"{type(exc).__name__}: {exc}"))
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
            return False
        results.append((name, None))
        print(f"PASS {name}", flush=True)
        return True

    def start_source() -> None:
        origin = source.start()
        token = json.loads(source.cli("token", "create", "--name", "import", "--output", "json"))
        state["source"], state["token"] = origin, token.get("token") or token.get("value")
        expect(bool(state["token"]), f"token create printed no token: {token}")
        state["api"] = Api(origin, state["token"])
        started = time.monotonic()
        state["seeded"] = seed(state["api"], origin, extra.free_port())
        print(f"  seeded the source in {time.monotonic() - started:.0f}s: {state['seeded']['server_id']}", flush=True)
        users = state["api"].call("GET", "/api/v1/users?limit=200")
        expect("rel=\"next\"" in users.headers.get("Link", ""), "300 users fit in one page: paging is not exercised")

    def dry_run() -> None:
        out = run_import(args.gatehouse, target, state["source"], state["token"], state["seeded"], "--dry-run")
        counts = report_counts(out)
        expect(counts.get("users", (0,))[0] >= USERS, f"the plan does not create {USERS} users: {out[-1500:]}")
        listed = json.loads(target.cli("user", "list", "--output", "json"))
        listed = listed if isinstance(listed, list) else listed.get("users", [])
        expect(not any(u.get("login") == JANE["login"] for u in listed), "the dry run wrote users")

    def import_all() -> None:
        out = run_import(args.gatehouse, target, state["source"], state["token"], state["seeded"])
        print("\n".join("  | " + l for l in out.splitlines() if l.strip() and not l.startswith("users: ")), flush=True)
        counts = report_counts(out)
        for kind, want in [("users", USERS), ("groups", 1), ("apps", 3), ("authorization servers", 1),
                           ("scopes", 1), ("claims", 1), ("policies", 1), ("policy rules", 1), ("trusted origins", 2),
                           ("app API scope grants", 1)]:  # fmt: skip
            got = counts.get(kind, (0, 0, 0, 0))
            # The source's own administrator (made at its first start) comes along too.
            expect(got[0] >= want, f"{kind}: created {got[0]}, expected {want} ({counts})")

    def rerun() -> None:
        out = run_import(args.gatehouse, target, state["source"], state["token"], state["seeded"])
        counts = report_counts(out)
        created = {k: c[0] for k, c in counts.items() if c[0]}
        expect(not created, f"a rerun created {created}")
        updated = {k: c[1] for k, c in counts.items() if c[1]}
        expect(not updated, f"a rerun updated {updated}")

    def sign_in_with_source_password() -> None:
        state["target"] = target.start()
        before = source_sign_ins(state["api"])
        expect(before == 0, f"the source recorded {before} sign-ins of Jane before the import was used")
        user = sign_in_netbox(state["target"], state["seeded"])
        expect(user.email == JANE["login"], f"NetBox user {user.email}")
        uid = user.social_user.uid
        want = JANE["login"] if SOCIAL_CORE_MAJOR < 7 else state["seeded"]["jane_id"]
        expect(uid == want, f"social uid {uid}, expected the source's {want}")
        extra = user.social_user.extra_data or {}
        id_token = extra.get("id_token")
        expect(isinstance(id_token, str), f"social-core kept no id_token (extra_data keys: {sorted(extra)})")
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        expect(claims.get("groups") == ["Engineering"], f"the imported groups claim gave {claims.get('groups')!r}")
        expect(claims.get("iss") == f"{state['target']}/oauth2/{state['seeded']['server_id']}", f"iss {claims.get('iss')}")
        after = source_sign_ins(state["api"])
        expect(after == 1, f"the source saw {after} sign-ins of Jane, expected exactly 1")

    def second_sign_in_stays_local() -> None:
        sign_in_netbox(state["target"], state["seeded"])
        after = source_sign_ins(state["api"])
        expect(after == 1, f"a second sign-in asked the source again ({after} sign-ins there)")

    def target_token() -> str:
        if "target_token" not in state:
            # The target's only users are imported ones: make Jane its administrator.
            target.cli("user", "admin", "--user", JANE["login"])
            made = json.loads(target.cli("token", "create", "--name", "check", "--user", JANE["login"], "--output", "json"))
            state["target_token"] = made.get("token") or made.get("value")
        return state["target_token"]

    def target_get(path: str) -> requests.Response:
        h = {"Authorization": f"SSWS {target_token()}", "Accept": "application/json"}
        return requests.get(state["target"] + path, headers=h, timeout=30)

    def server_config() -> None:
        extra.check_server_config(state["target"], target_token(), state["seeded"])

    def service_app() -> None:
        extra.check_service_app(state["target"], state["seeded"])

    def spa() -> None:
        extra.spa_sign_in(state["target"], state["seeded"], JANE["login"], JANE["password"])
        after = source_sign_ins(state["api"])
        expect(after == 1, f"the SPA's sign-in asked the source again ({after} sign-ins there)")

    def again(*extra_args: str) -> str:
        return run_import(args.gatehouse, target, state["source"], state["token"], state["seeded"], *extra_args)

    def changes_planned() -> None:
        state["changed"] = extra.change_source(state["api"])
        out = again("--dry-run", "--deleted", "deactivate")
        counts = report_counts(out)
        expect(counts.get("users", (0,))[0] == 1, f"the plan does not add the new user: {counts}")
        expect(counts.get("groups", (0, 0))[1] == 1, f"the plan does not update the changed group: {counts}")
        gone = extra.deleted_lines(out)
        want = [f"users {extra.LEAVER}: would be deactivated", f"trusted origins {extra.GONE_ORIGIN}: would be deactivated"]
        expect(gone == want, f"planned deletions {gone}")
        leaver = target_get(f"/api/v1/users/{state['changed']['leaver_id']}").json()
        expect(leaver.get("status") not in (None, "DEPROVISIONED"), f"the dry run changed the leaver: {leaver.get('status')}")
        late = target_get(f"/api/v1/users/{state['changed']['late_id']}")
        expect(late.status_code == 404, f"the dry run added the new user: {late.status_code}")

    def changes_deactivate() -> None:
        out = again("--deleted", "deactivate")
        counts = report_counts(out)
        expect(counts["users"][:2] == (1, 0) and counts["groups"][:2] == (0, 1), f"counts {counts}")
        gone = extra.deleted_lines(out)
        want = [f"users {extra.LEAVER}: deactivated", f"trusted origins {extra.GONE_ORIGIN}: deactivated"]
        expect(gone == want, f"deletions {gone}")
        leaver = target_get(f"/api/v1/users/{state['changed']['leaver_id']}").json()
        expect(leaver.get("status") == "DEPROVISIONED", f"the leaver is {leaver.get('status')}")
        late = target_get(f"/api/v1/users/{state['changed']['late_id']}")
        expect(late.status_code == 200, f"the new user: {late.status_code}")
        origins = {o["origin"]: o["status"] for o in target_get("/api/v1/trustedOrigins").json()}
        expect(origins.get(extra.GONE_ORIGIN) == "INACTIVE", f"trusted origins here {origins}")
        groups = target_get("/api/v1/groups?q=Engineering").json()
        expect(any(g["profile"].get("description") == "Builders and makers" for g in groups), f"groups {groups}")

    def changes_remove() -> None:
        out = again("--deleted", "remove")
        gone = extra.deleted_lines(out)
        want = [f"users {extra.LEAVER}: removed", f"trusted origins {extra.GONE_ORIGIN}: removed"]
        expect(gone == want, f"deletions {gone}")
        leaver = target_get(f"/api/v1/users/{state['changed']['leaver_id']}")
        expect(leaver.status_code == 404, f"the leaver is still here: {leaver.status_code}")
        origins = [o["origin"] for o in target_get("/api/v1/trustedOrigins").json()]
        expect(extra.GONE_ORIGIN not in origins, f"trusted origins here {origins}")
        out = again("--deleted", "remove")
        busy = {k: c[:2] for k, c in report_counts(out).items() if c[0] or c[1]}
        expect(not busy and not extra.deleted_lines(out), f"a last rerun still did {busy} {extra.deleted_lines(out)}")

    steps = [
        ("source org seeded through /api/v1 (300 users, paging)", start_source),
        ("import --dry-run prints the plan, writes nothing", dry_run),
        ("import carries users, groups, apps, servers, origins", import_all),
        ("a rerun creates and updates nothing", rerun),
        ("social-core signs in with the source's client and password", sign_in_with_source_password),
        ("a second sign-in does not ask the source", second_sign_in_stays_local),
        ("groups claim, policy, rule and API scope grant carried", server_config),
        ("the service app gets a token with its old private key", service_app),
        ("okta-auth-js signs the SPA in with the source's client id", spa),
        ("changes at the source: --dry-run plans them, writes nothing", changes_planned),
        ("rerun --deleted deactivate: updates, adds, deactivates", changes_deactivate),
        ("rerun --deleted remove: removes; then nothing is left to do", changes_remove),
    ]
    try:
        for name, fn in steps:
            if not step(name, fn):
                break
    finally:
        target.stop()
        source.stop()
        if any(err for _, err in results):
            for name in ("source.log", "target.log"):
                path = work / name
                if path.exists():
                    print(f"--- {name} (tail)")
                    print("\n".join(path.read_text(errors="replace").splitlines()[-25:]))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    passed = sum(1 for _, err in results if err is None)
    print(f"RESULT {passed}/{len(steps)} steps passed")
    return 0 if passed == len(steps) else 1


if __name__ == "__main__":
    sys.exit(main())
