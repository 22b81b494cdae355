#!/usr/bin/env python3
"""LDAP delegated sign-in through gatehouse, proven with social-auth-core as the relying party.

run_ldap.sh starts a seeded slapd and calls this with the socialcore venv's python. It starts
gatehouse with an [ldap] section pointing at that slapd over StartTLS (the slapd accepts simple
binds over TLS only), then runs the scenarios in order (later ones build on earlier ones):

  transports           `gatehouse ldap check` over StartTLS and ldaps passes; plain ldap:// with
                       allow_insecure is refused by the server
  first-sign-in        alice (only in the directory) signs in to the RP: created just in time,
                       name and email mapped, both her LDAP groups in the ID token's groups claim
  profile-and-groups   her sn changes and she leaves a group in the directory; the next sign-in
                       shows both
  no-local-password    /api/v1 refuses to give alice a Gatehouse password (403)
  wrong-password       refused with the same page as an unknown login; an empty password too
  filter-injection     a login of `*` or `*)(uid=*` with a real password signs nobody in
  sync-deactivates     `gatehouse ldap sync` provisions bob; bob is deleted from the directory;
                       the next sync deactivates him and he can no longer sign in
  incremental-sync     after the full sync, alice's sn changes (ldapmodify): `ldap sync --incremental`
                       reports exactly 1 entry fetched and 1 updated, /api/v1/users shows the new
                       sn; a second incremental run fetches 0
  scheduled-sync       gatehouse restarted with sync_interval_seconds = 5: a change made while it
                       runs reaches /api/v1/users within 30 s, by an incremental round
  directory-outage     slapd stopped: alice gets the directory-unavailable error (not "wrong
                       password") and a local user still signs in

Prints PASS/FAIL per scenario and `RESULT <passed>/<total> ...` last.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "socialcore"))

from browser import Browser, Departure, Page  # noqa: E402
from gatehouse import Gatehouse, GatehouseError  # noqa: E402
from netbox_sim import NETBOX_ORIGIN, NetBoxSite, redirect_uri  # noqa: E402

OKTA = "okta-openidconnect"
BASE = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{BASE}"
ALICE = ("alice", "Alice-Passw0rd!")
BOB = ("bob", "Bob-Passw0rd!")
LOCAL = ("local.user@example.com", "Local-Passw0rd!")
UNAVAILABLE = "directory service (LDAP) is unavailable"


class ConfiguredGatehouse(Gatehouse):
    """socialcore's Gatehouse runner, with a config file (it passes no GATEHOUSE_* variables)."""

    def __init__(self, *args, config: Path, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config = config

    def _global_options(self) -> list[str]:
        return ["--config", str(self.config), *super()._global_options()]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        secret = work / "bind-password"
        secret.write_text("Service-Passw0rd\n")
        config = work / "gatehouse.toml"
        config.write_text(
            "[ldap]\n"
            f'url = "{args.ldap_url}"\n'
            f'tls_ca_file = "{args.ca_file}"\n'
            f'bind_dn = "cn=gatehouse,ou=services,{BASE}"\n'
            f'bind_password_file = "{secret}"\n'
            f'user_base = "ou=people,{BASE}"\n'
            'user_filter = "(&(objectClass=inetOrgPerson)(uid={login}))"\n'
            f'group_base = "ou=groups,{BASE}"\n'
            'group_filter = "(&(objectClass=groupOfNames)(member={dn}))"\n'
            "connect_timeout_seconds = 2\n"
            "operation_timeout_seconds = 5\n"
            "pool_size = 2\n"
            "[ldap.attributes]\n"
            'login = "uid"\n'
            'email = "mail"\n'
            'first_name = "givenName"\n'
            'last_name = "sn"\n'
            'group_name = "cn"\n'
        )
        self.gh = ConfiguredGatehouse(
            args.gatehouse, work / "data", work / "gatehouse.log", args.database_url, config=config
        )
        self.origin = ""
        self.client: dict[str, str] = {}
        self.token = ""  # SSWS, made by no-local-password

    # -- directory changes, as an administrator would make them
    def ldap(self, tool: str, ldif: str | None = None, *extra: str) -> None:
        cmd = [tool, "-x", "-ZZ", "-H", self.args.ldap_url, "-D", ADMIN_DN, "-w", self.args.admin_password, *extra]
        done = subprocess.run(cmd, input=ldif, capture_output=True, text=True, timeout=30)
        expect(done.returncode == 0, f"{tool} failed: {done.stderr.strip()}")

    # -- the relying party
    def site(self) -> NetBoxSite:
        return NetBoxSite(
            {
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY": self.client["client_id"],
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET": self.client["client_secret"],
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL": f"{self.origin}/oauth2/",
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SCOPE": ["groups"],
            }
        )

    def attempt(self, login: str, password: str) -> tuple[NetBoxSite, Page | Departure]:
        site = self.site()
        url = site.begin(OKTA)
        browser = Browser(self.origin)
        form = browser.open(url)
        expect(isinstance(form, Page), f"authorize did not show the sign-in page: {form}")
        return site, browser.submit_login(form, login, password)

    def sign_in(self, login: str, password: str):
        site, result = self.attempt(login, password)
        expect(isinstance(result, Departure), f"{login} was not signed in: {describe(result)}")
        expect(result.url.startswith(redirect_uri(OKTA) + "?"), f"redirected to {result.url}")
        return site.complete(OKTA, result.url)

    def refused(self, login: str, password: str, what: str) -> Page:
        _, result = self.attempt(login, password)
        expect(isinstance(result, Page), f"{what}: signed in ({getattr(result, 'url', result)})")
        expect(result.status in (200, 401), f"{what}: expected the form again, got {result.describe()}")
        result.login_form()
        return result


def describe(result: object) -> str:
    if isinstance(result, Page):
        text = " ".join(result.text.split())
        return f"{result.status} page: {text[:300]}"
    return repr(result)


def id_token_claims(user) -> dict:
    token = (user.social_user.extra_data or {}).get("id_token")
    expect(bool(token), f"no id_token kept by social-core: {user.social_user.extra_data}")
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def check_profile(user, first: str, last: str, email: str, groups: set[str]) -> None:
    got = (user.first_name, user.last_name, user.email)
    expect(got == (first, last, email), f"RP user has {got}, expected {(first, last, email)}")
    claims = id_token_claims(user)
    have = set(claims.get("groups", [])) - {"Everyone"}
    expect(have == groups, f"groups claim {sorted(have)}, expected {sorted(groups)}")


def transports(run: Run) -> None:
    """StartTLS (the sign-ins' url), ldaps, and plain ldap:// refused by this TLS-only server."""
    out = run.gh.cli("ldap", "check")
    expect("2 users and 2 groups" in out, f"ldap check over StartTLS: {out!r}")
    work = Path(run.args.work)
    for name, url, extra, ok in (
        ("ldaps", run.args.ldaps_url, "", True),
        ("plain", run.args.ldap_url, "allow_insecure = true\n", False),
    ):
        config = work / f"{name}.toml"
        text = run.gh.config.read_text().replace(f'url = "{run.args.ldap_url}"\n', f'url = "{url}"\n{extra}', 1)
        config.write_text(text)
        done = subprocess.run(
            [run.gh.binary, "--config", str(config), *Gatehouse._global_options(run.gh), "ldap", "check"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")},
        )  # fmt: skip
        expect((done.returncode == 0) == ok, f"ldap check over {name}: exit {done.returncode} {done.stderr.strip()!r}")


def first_sign_in(run: Run) -> None:
    user = run.sign_in(*ALICE)
    check_profile(user, "Alice", "Liddell", "alice@example.org", {"engineers", "staff"})
    expect(user.username == "alice", f"preferred_username {user.username!r}, expected 'alice'")


def profile_and_groups(run: Run) -> None:
    run.ldap("ldapmodify", f"dn: uid=alice,ou=people,{BASE}\nchangetype: modify\nreplace: sn\nsn: Pleasance\n")
    run.ldap(
        "ldapmodify",
        f"dn: cn=engineers,ou=groups,{BASE}\nchangetype: modify\nadd: member\nmember: uid=bob,ou=people,{BASE}\n-\n"
        f"delete: member\nmember: uid=alice,ou=people,{BASE}\n",
    )
    user = run.sign_in(*ALICE)
    check_profile(user, "Alice", "Pleasance", "alice@example.org", {"staff"})


def no_local_password(run: Run) -> None:
    """The directory holds alice's password: /api/v1 refuses to set one in Gatehouse."""
    run.gh.cli("user", "admin", "--user", LOCAL[0])
    token = run.token = run.gh.cli_json("token", "create", "--name", "ldap-test", "--user", LOCAL[0])["token"]
    users = json.loads(run.gh.cli("user", "list", "--output", "json"))
    alice = next(u for u in users if u["login"] == ALICE[0])
    response = requests.post(
        f"{run.origin}/api/v1/users/{alice['id']}",
        headers={"Authorization": f"SSWS {token}", "Accept": "application/json"},
        json={"credentials": {"password": {"value": "Local-Override-1!"}}},
        timeout=10,
    )
    expect(response.status_code == 403, f"setting an LDAP user's password: {response.status_code} {response.text}")
    run.refused(ALICE[0], "Local-Override-1!", "the refused Gatehouse password")


def wrong_password(run: Run) -> None:
    wrong = run.refused(ALICE[0], "Wrong-" + ALICE[1], "wrong password")
    unknown = run.refused("nobody", ALICE[1], "unknown login")
    expect(
        wrong.text.replace(ALICE[0], "<u>") == unknown.text.replace("nobody", "<u>"),
        "a wrong password and an unknown login read differently",
    )
    run.refused(ALICE[0], "", "empty password")


def filter_injection(run: Run) -> None:
    for login in ("*", "*)(uid=*", "alice)(uid=*"):
        run.refused(login, ALICE[1], f"login {login!r}")


def sync_deactivates(run: Run) -> None:
    report = run.gh.cli_json("ldap", "sync")
    expect(report.get("usersInDirectory") == 2, f"first sync: {report}")
    expect(report.get("created") == 1, f"bob should be created by the first sync: {report}")
    user = run.sign_in(*BOB)
    check_profile(user, "Bob", "Builder", "bob@example.org", {"engineers", "staff"})
    run.ldap("ldapdelete", None, f"uid=bob,ou=people,{BASE}")
    report = run.gh.cli_json("ldap", "sync")
    expect(report.get("deactivated") == 1, f"second sync should deactivate bob: {report}")
    run.refused(*BOB, "bob after deactivation")


def api_user(run: Run, login: str) -> dict:
    response = requests.get(
        f"{run.origin}/api/v1/users/{login}",
        headers={"Authorization": f"SSWS {run.token}", "Accept": "application/json"},
        timeout=10,
    )
    expect(response.status_code == 200, f"GET /api/v1/users/{login}: {response.status_code} {response.text}")
    return response.json()


def set_sn(run: Run, login: str, sn: str) -> None:
    # modifyTimestamp counts whole seconds: a change in the second of the mark would be taken
    # for one already imported (docs/ldap.md says so), so let that second pass.
    time.sleep(1.1)
    run.ldap("ldapmodify", f"dn: uid={login},ou=people,{BASE}\nchangetype: modify\nreplace: sn\nsn: {sn}\n")


def incremental_sync(run: Run) -> None:
    """sync-deactivates ended with a full sync, which saved the mark."""
    set_sn(run, ALICE[0], "Hargreaves")
    report = run.gh.cli_json("ldap", "sync", "--incremental")
    expect(report.get("mode") == "incremental", f"not incremental: {report}")
    expect(report.get("fetched") == 1 and report.get("updated") == 1, f"expected 1 fetched, 1 updated: {report}")
    expect(report.get("created") == 0 and report.get("deactivated") == 0, f"{report}")
    profile = api_user(run, ALICE[0])["profile"]
    expect(profile.get("lastName") == "Hargreaves", f"/api/v1/users/alice after the import: {profile}")
    again = run.gh.cli_json("ldap", "sync", "--incremental")
    expect(again.get("fetched") == 0 and again.get("updated") == 0, f"second incremental run: {again}")
    expect(again.get("mark") == report.get("mark"), f"the mark moved without a change: {report} / {again}")


def scheduled_sync(run: Run) -> None:
    """The scheduled rounds (incremental between full ones) pick up a change while serving."""
    run.gh.stop()
    config = run.gh.config.read_text()
    run.gh.config.write_text(
        config.replace("[ldap.attributes]\n", "sync_interval_seconds = 5\nfull_sync_interval_seconds = 3600\n[ldap.attributes]\n", 1)
    )
    run.gh.origin = None
    run.gh._ready.clear()
    run.origin = run.gh.start()
    set_sn(run, ALICE[0], "Liddell")
    changed = time.monotonic()
    deadline = changed + 30
    last = None
    while time.monotonic() < deadline:
        last = api_user(run, ALICE[0])["profile"].get("lastName")
        if last == "Liddell":
            break
        time.sleep(0.5)
    expect(last == "Liddell", f"the scheduled import did not pick up the change within 30 s (lastName {last!r})")
    print(f"# the scheduled import picked up the change after {time.monotonic() - changed:.1f} s (rounds every 5 s)")
    # The server's log (the CLI's reports go elsewhere) names the rounds it ran.
    log = Path(run.gh.log_path).read_text(errors="replace")
    expect("LDAP import (incremental" in log, f"no incremental round in the server's log:\n{run.gh.output_tail(20)}")


def directory_outage(run: Run) -> None:
    os.kill(run.args.slapd_pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(run.args.slapd_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    _, result = run.attempt(*ALICE)
    expect(isinstance(result, Page), f"signed in with the directory down: {result}")
    expect(UNAVAILABLE in result.text, f"no directory-unavailable message: {describe(result)}")
    user = run.sign_in(*LOCAL)
    expect(user.email == LOCAL[0], f"local user signed in as {user.email!r}")
    # The System Log has the outage and alice's earlier sign-ins, each with its source.
    events = run.gh.cli_json("logs", "--descending", "--limit", "200")
    starts = [e for e in events if e.get("eventType") == "user.session.start"]

    def source(e: dict) -> str | None:
        return ((e.get("debugContext") or {}).get("debugData") or {}).get("signInSource")

    outage = [e for e in starts if (e.get("outcome") or {}).get("reason") == "DIRECTORY_UNAVAILABLE"]
    expect(len(outage) == 1 and source(outage[0]) == "LDAP", f"System Log outage events: {outage}")
    ok = [e for e in starts if (e.get("outcome") or {}).get("result") == "SUCCESS" and source(e) == "LDAP"]
    expect(len(ok) >= 3, f"expected LDAP-sourced successful sign-ins in the System Log, got {len(ok)}")


SCENARIOS = [
    ("transports", transports),
    ("first-sign-in", first_sign_in),
    ("profile-and-groups", profile_and_groups),
    ("no-local-password", no_local_password),
    ("wrong-password", wrong_password),
    ("filter-injection", filter_injection),
    ("sync-deactivates", sync_deactivates),
    ("incremental-sync", incremental_sync),
    ("scheduled-sync", scheduled_sync),
    ("directory-outage", directory_outage),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gatehouse", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--work", required=True)
    parser.add_argument("--ldap-url", required=True)
    parser.add_argument("--ldaps-url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--slapd-pid", type=int, required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    database = "postgres" if (args.database_url or "").startswith("postgres") else "sqlite"
    print(f"# ldap, {database}, {args.ldap_url}", flush=True)
    run = Run(args)
    passed = 0
    try:
        try:
            run.gh.cli_json(
                "user", "add", "--login", LOCAL[0], "--email", LOCAL[0],
                "--first-name", "Local", "--last-name", "User", "--password", LOCAL[1],
            )  # fmt: skip
            run.client = run.gh.cli_json(
                "app", "create-oidc", "--type", "web", "--label", "NetBox (LDAP)",
                "--redirect-uri", redirect_uri(OKTA),
                "--post-logout-redirect-uri", f"{NETBOX_ORIGIN}/",
                "--assign", "Everyone",
                "--groups-claim-name", "groups", "--groups-claim-filter", "REGEX:.*",
            )  # fmt: skip
            run.origin = run.gh.start()
        except (GatehouseError, OSError) as exc:
            print(f"FAIL setup: {exc}")
        else:
            for name, scenario in SCENARIOS:
                try:
                    scenario(run)
                except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
                    print(f"FAIL {name}: {exc}", flush=True)
                    if not isinstance(exc, AssertionError):
                        traceback.print_exc()
                    break  # later scenarios build on this one
                else:
                    passed += 1
                    print(f"PASS {name}", flush=True)
    finally:
        run.gh.stop()
        if passed != len(SCENARIOS):
            print("# last gatehouse output:")
            print("\n".join("#   " + line for line in run.gh.output_tail(20).splitlines()))
        elif not args.keep:
            shutil.rmtree(Path(args.work) / "data", ignore_errors=True)
    print(f"RESULT {passed}/{len(SCENARIOS)} scenarios passed (ldap, {database})")
    return 0 if passed == len(SCENARIOS) else 1


if __name__ == "__main__":
    sys.exit(main())
