#!/usr/bin/env python3
"""Sign-in through an upstream OpenID Connect identity provider, proven end to end.

run_idp.sh calls this with the socialcore venv's python. It starts gatehouse (with
dev_jwks_uri_allow_loopback, so an http://127.0.0.1 upstream is allowed), then panva's
oidc-provider (upstream.mjs) registered with gatehouse's callback, adds the upstream with
`gatehouse idp add-oidc` (discovery), and runs the scenarios in order:

  button            a social-auth-core RP signs in: gatehouse's sign-in page shows "Sign in with
                    Upstream", the browser goes upstream (login and consent forms), back to
                    /oauth2/v1/authorize/callback, and on to the RP: the user is provisioned with
                    the mapped names, email and both groups from the upstream's groups claim
  profile-update    the upstream profile changes (last name, one group fewer); a second sign-in
                    through `idp=<id>` on /authorize (no sign-in page) updates both
  domain-routing    typing alice@upstream.example on the sign-in page (no password) routes to the
                    upstream by email domain
  no-local-password /api/v1 refuses a Gatehouse password for the IdP's user (403)
  system-log        user.authentication.auth_via_IDP events with the IdP in authenticationContext
  okta-sdk          Okta's Python SDK lists and reads the IdP through /api/v1/idps
  key-rotation      the upstream restarts with a new signing key (its key file removed) (a new kid in its JWKS); the next
                    sign-in through it succeeds (gatehouse refetches the JWKS for the unknown kid)
  client-secret-jwt an IdP added with --token-auth-method client_secret_jwt (the API shows the
                    method) signs in through an upstream client that requires client_secret_jwt;
                    switched to client_secret_post, the upstream refuses the token request
  private-key-jwt   a second IdP authenticates to the upstream's token endpoint with
                    private_key_jwt: gatehouse generates its key (the API shows the public JWK
                    and kid, Gatehouse serves it as a JWKS), the upstream is restarted with a
                    client that requires private_key_jwt and fetches that JWKS; a sign-in
                    through it provisions bob; switched to a client secret, the upstream
                    refuses the token request and the sign-in fails

Prints PASS/FAIL per scenario and `RESULT <passed>/<total> ...` last.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import traceback
from pathlib import Path
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "socialcore"))

from browser import REDIRECT_STATUSES, Browser, Page, parse_page  # noqa: E402
from gatehouse import Gatehouse, GatehouseError  # noqa: E402
from netbox_sim import NETBOX_ORIGIN, NetBoxSite, redirect_uri  # noqa: E402

OKTA = "okta-openidconnect"
HERE = Path(__file__).resolve().parent
ADMIN = ("local.admin@example.com", "Local-Passw0rd!")
UPSTREAM_SECRET = "upstream-client-secret-0123456789"
ALICE = {
    "email": "alice@upstream.example",
    "email_verified": True,
    "given_name": "Alice",
    "family_name": "Liddell",
    "name": "Alice Liddell",
    "groups": ["engineers", "staff"],
}


class ConfiguredGatehouse(Gatehouse):
    def __init__(self, *args, config: Path, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config = config

    def _global_options(self) -> list[str]:
        return ["--config", str(self.config), *super()._global_options()]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work)
        self.work.mkdir(parents=True, exist_ok=True)
        config = self.work / "gatehouse.toml"
        config.write_text("dev_jwks_uri_allow_loopback = true\n")
        self.gh = ConfiguredGatehouse(
            args.gatehouse, self.work / "data", self.work / "gatehouse.log", args.database_url, config=config
        )
        self.profile = self.work / "upstream-profile.json"
        # The upstream's signing key, kept across its restarts; removed to rotate it.
        self.upstream_key = self.work / "upstream-key.json"
        self.origin = ""
        self.upstream = ""
        self.upstream_proc: subprocess.Popen | None = None
        self.client: dict[str, str] = {}
        self.idp_id = ""

    def set_profile(self, claims: dict) -> None:
        self.profile.write_text(json.dumps({"claims": claims}))

    def start_upstream(self, port: int = 0, jwks_uri: str | None = None) -> None:
        port = port or free_port()
        if jwks_uri is None:
            self.set_profile(ALICE)
        callback = f"{self.origin}/oauth2/v1/authorize/callback"
        log = open(self.work / "upstream.log", "a")  # noqa: SIM115 - closed with the process
        extra = [jwks_uri] if jwks_uri else []
        self.upstream_proc = subprocess.Popen(
            ["node", str(HERE / "upstream.mjs"), str(port), callback, UPSTREAM_SECRET, str(self.profile), *extra],
            cwd=HERE, stdout=subprocess.PIPE, stderr=log, text=True, stdin=subprocess.DEVNULL,
            env={**os.environ, "UPSTREAM_KEY_FILE": str(self.upstream_key)},
        )  # fmt: skip
        line = self.upstream_proc.stdout.readline() if self.upstream_proc.stdout else ""
        expect(line.startswith("listening "), f"upstream did not start: {line!r} (see upstream.log)")
        self.upstream = line.split()[1]

    def stop_upstream(self) -> None:
        if self.upstream_proc and self.upstream_proc.poll() is None:
            self.upstream_proc.terminate()
            try:
                self.upstream_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.upstream_proc.kill()

    def site(self) -> NetBoxSite:
        return NetBoxSite(
            {
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY": self.client["client_id"],
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET": self.client["client_secret"],
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL": f"{self.origin}/oauth2/",
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SCOPE": ["groups"],
            }
        )

    def journey(self, browser: Browser, method: str, url: str, data: dict | None = None) -> str:
        """Follows the browser through gatehouse and the upstream (filling the upstream's login
        and consent forms) until it leaves for the RP; returns that URL."""
        for _ in range(40):
            response = browser.http.request(method, url, data=data, allow_redirects=False, timeout=15)
            if response.status_code in REDIRECT_STATUSES:
                target = urljoin(url, response.headers["Location"])
                if target.startswith(NETBOX_ORIGIN):
                    return target
                method, data, url = "GET", None, target
                continue
            page = parse_page(url, response.status_code, response.text)
            expect(url.startswith(self.upstream), f"stopped at {page.describe()}")
            expect(page.forms, f"upstream page without a form: {page.describe()}")
            form = page.forms[0]
            data = dict(form.fields)
            if "login" in form.input_names:
                data.update(login="alice", password="any")
            method, url = form.method.upper(), urljoin(url, form.action or url)
        raise AssertionError("too many steps")

    def finish(self, site: NetBoxSite, departure: str):
        expect(departure.startswith(redirect_uri(OKTA) + "?"), f"redirected to {departure}")
        expect("code=" in departure, f"no code: {departure}")
        return site.complete(OKTA, departure)


def id_token_claims(user) -> dict:
    token = (user.social_user.extra_data or {}).get("id_token")
    expect(bool(token), f"no id_token kept by social-core: {user.social_user.extra_data}")
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def check_profile(user, first: str, last: str, email: str, groups: set[str]) -> None:
    got = (user.first_name, user.last_name, user.email)
    expect(got == (first, last, email), f"RP user has {got}, expected {(first, last, email)}")
    have = set(id_token_claims(user).get("groups", [])) - {"Everyone"}
    expect(have == groups, f"groups claim {sorted(have)}, expected {sorted(groups)}")


def button(run: Run) -> None:
    site = run.site()
    browser = Browser(run.origin)
    page = browser.open(site.begin(OKTA))
    expect(isinstance(page, Page), f"authorize did not show the sign-in page: {page}")
    expect("Sign in with Upstream" in page.text, f"no IdP button: {page.text[:300]}")
    form = next((f for f in page.forms if "idp" in f.input_names), None)
    expect(form is not None and form.fields.get("idp") == run.idp_id, "no button form for the IdP")
    departure = run.journey(browser, "POST", urljoin(page.url, form.action), dict(form.fields))
    user = run.finish(site, departure)
    check_profile(user, "Alice", "Liddell", ALICE["email"], {"engineers", "staff"})
    expect(user.username == ALICE["email"], f"username {user.username!r}")


def profile_update(run: Run) -> None:
    run.set_profile({**ALICE, "family_name": "Pleasance", "groups": ["staff"]})
    site = run.site()
    browser = Browser(run.origin)
    url = site.begin(OKTA) + f"&idp={run.idp_id}"
    departure = run.journey(browser, "GET", url)
    user = run.finish(site, departure)
    check_profile(user, "Alice", "Pleasance", ALICE["email"], {"staff"})


def domain_routing(run: Run) -> None:
    site = run.site()
    browser = Browser(run.origin)
    page = browser.open(site.begin(OKTA))
    expect(isinstance(page, Page), f"authorize did not show the sign-in page: {page}")
    form = page.login_form()
    data = {**form.fields, "username": ALICE["email"], "password": ""}
    departure = run.journey(browser, "POST", urljoin(page.url, form.action), data)
    user = run.finish(site, departure)
    check_profile(user, "Alice", "Pleasance", ALICE["email"], {"staff"})


def api_token(run: Run) -> str:
    if not getattr(run, "_token", None):
        run.gh.cli("user", "admin", "--user", ADMIN[0])
        run._token = run.gh.cli_json("token", "create", "--name", "idp-test", "--user", ADMIN[0])["token"]
    return run._token


def no_local_password(run: Run) -> None:
    token = api_token(run)
    users = json.loads(run.gh.cli("user", "list", "--output", "json"))
    alice = next(u for u in users if u["login"] == ALICE["email"])
    response = requests.post(
        f"{run.origin}/api/v1/users/{alice['id']}",
        headers={"Authorization": f"SSWS {token}", "Accept": "application/json"},
        json={"credentials": {"password": {"value": "Local-Override-1!"}}},
        timeout=10,
    )
    expect(response.status_code == 403, f"setting an IdP user's password: {response.status_code} {response.text}")


def system_log(run: Run) -> None:
    events = run.gh.cli_json("logs", "--descending", "--limit", "200")
    via = [e for e in events if e.get("eventType") == "user.authentication.auth_via_IDP"]
    ok = [e for e in via if (e.get("outcome") or {}).get("result") == "SUCCESS"]
    expect(len(ok) >= 3, f"expected 3 successful auth_via_IDP events, got {len(ok)}: {via[:2]}")
    context = ok[0].get("authenticationContext") or {}
    expect(context.get("authenticationProvider") == "FEDERATION", f"authenticationContext {context}")
    expect((context.get("issuer") or {}).get("id") == run.idp_id, f"authenticationContext {context}")


def okta_sdk(run: Run) -> None:
    env = {
        **os.environ,
        "GATEHOUSE_URL": run.origin,
        "GATEHOUSE_TOKEN": api_token(run),
        "IDP_ID": run.idp_id,
        "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK": "true",
    }
    done = subprocess.run(
        [run.args.okta_python, str(HERE / "okta_sdk_idps.py")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    print("\n".join("#   " + line for line in done.stdout.splitlines()))
    expect(done.returncode == 0, f"okta SDK: exit {done.returncode} {done.stderr.strip()[-800:]}")


BOB = {
    "email": "bob@keyed.example",
    "email_verified": True,
    "given_name": "Bob",
    "family_name": "Keyholder",
    "name": "Bob Keyholder",
    # Not the first IdP's groups: an IdP's claim joins only groups from that IdP.
    "groups": ["keyholders"],
}


def api(run: Run, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method, f"{run.origin}{path}", json=body, timeout=10,
        headers={"Authorization": f"SSWS {api_token(run)}", "Accept": "application/json"},
    )  # fmt: skip


def upstream_kids(run: Run) -> list[str]:
    jwks_uri = requests.get(f"{run.upstream}/.well-known/openid-configuration", timeout=10).json()["jwks_uri"]
    return [k.get("kid") for k in requests.get(jwks_uri, timeout=10).json()["keys"]]


def key_rotation(run: Run) -> None:
    before = upstream_kids(run)
    port = int(run.upstream.rsplit(":", 1)[1])
    run.stop_upstream()
    run.upstream_key.unlink()
    run.start_upstream(port)
    after = upstream_kids(run)
    expect(before and after and not set(before) & set(after), f"the upstream kept its key: {before} / {after}")
    site = run.site()
    departure = run.journey(Browser(run.origin), "GET", site.begin(OKTA) + f"&idp={run.idp_id}")
    user = run.finish(site, departure)
    check_profile(user, "Alice", "Liddell", ALICE["email"], {"engineers", "staff"})


CAROL = {
    "email": "carol@upstream.example",
    "email_verified": True,
    "given_name": "Carol",
    "family_name": "Hashed",
    "name": "Carol Hashed",
    "groups": ["hashers"],
}


def refused_upstream(run: Run, site: NetBoxSite, idp: str) -> None:
    """A sign-in whose token request the upstream refuses ends on gatehouse's page."""
    try:
        departure = run.journey(Browser(run.origin), "GET", site.begin(OKTA) + f"&idp={idp}")
    except AssertionError as exc:
        expect(str(exc).startswith("stopped at"), f"{exc}")
    else:
        raise AssertionError(f"the upstream's token request got through: {departure}")


def client_secret_jwt(run: Run) -> None:
    hashed = run.gh.cli_json(
        "idp", "add-oidc", "--name", "Hashed", "--issuer", run.upstream,
        "--client-id", "gatehouse-csjwt", "--client-secret", UPSTREAM_SECRET,
        "--token-auth-method", "client_secret_jwt",
        "--scopes", "openid profile email groups", "--groups-claim", "groups",
    )["id"]  # fmt: skip
    got = api(run, "GET", f"/api/v1/idps/{hashed}")
    expect(got.status_code == 200, f"GET idp: {got.status_code}")
    body = got.json()
    method = body["protocol"]["credentials"]["client"].get("token_endpoint_auth_method")
    expect(method == "client_secret_jwt", f"credentials {body['protocol']['credentials']}")
    expect(body["gatehouse"].get("tokenEndpointAuthMethod") == "client_secret_jwt", f"{body['gatehouse']}")
    run.set_profile(CAROL)
    site = run.site()
    departure = run.journey(Browser(run.origin), "GET", site.begin(OKTA) + f"&idp={hashed}")
    user = run.finish(site, departure)
    check_profile(user, "Carol", "Hashed", CAROL["email"], {"hashers"})
    # The same client sending its secret in the form: the upstream wants the JWT, and refuses.
    body["gatehouse"]["tokenEndpointAuthMethod"] = "client_secret_post"
    del body["protocol"]["credentials"]["client"]["token_endpoint_auth_method"]
    put = api(run, "PUT", f"/api/v1/idps/{hashed}", body)
    expect(put.status_code == 200, f"PUT idp: {put.status_code} {put.text[:300]}")
    refused_upstream(run, site, hashed)
    run.set_profile(ALICE)


def private_key_jwt(run: Run) -> None:
    created = run.gh.cli_json(
        "idp", "add-oidc", "--name", "Keyed", "--issuer", run.upstream,
        "--client-id", "gatehouse-pkjwt", "--token-auth-method", "private_key_jwt",
        "--scopes", "openid profile email groups", "--groups-claim", "groups",
    )  # fmt: skip
    keyed, jwk = created["id"], created.get("clientJwk") or {}
    expect(jwk.get("kty") == "RSA" and "d" not in jwk, f"public JWK {jwk}")
    got = api(run, "GET", f"/api/v1/idps/{keyed}")
    expect(got.status_code == 200, f"GET idp: {got.status_code}")
    creds = got.json()["protocol"]["credentials"]
    expect(creds["client"].get("token_endpoint_auth_method") == "private_key_jwt", f"credentials {creds}")
    signing = creds.get("signing") or {}
    expect(signing.get("kid") == jwk.get("kid"), f"signing {signing}")
    jwks_uri = signing.get("jwks_uri", "")
    served = requests.get(jwks_uri, timeout=10)
    expect(served.status_code == 200, f"{jwks_uri}: {served.status_code}")
    expect([k.get("kid") for k in served.json()["keys"]] == [jwk["kid"]], f"JWKS {served.text}")
    expect(all("d" not in k for k in served.json()["keys"]), "the JWKS holds a private member")
    # A replacement (PUT) keeps the key: what was registered upstream stays valid.
    body = got.json()
    body["name"] = "Keyed"
    put = api(run, "PUT", f"/api/v1/idps/{keyed}", body)
    expect(put.status_code == 200, f"PUT idp: {put.status_code} {put.text[:300]}")
    expect(put.json()["protocol"]["credentials"]["signing"]["kid"] == jwk["kid"], "PUT changed the key")
    # The upstream now knows a client that must sign its token requests with that key.
    port = int(run.upstream.rsplit(":", 1)[1])
    run.stop_upstream()
    run.set_profile(BOB)
    run.start_upstream(port, jwks_uri)
    site = run.site()
    browser = Browser(run.origin)
    departure = run.journey(browser, "GET", site.begin(OKTA) + f"&idp={keyed}")
    user = run.finish(site, departure)
    check_profile(user, "Bob", "Keyholder", BOB["email"], {"keyholders"})
    # The same client with a secret instead: the upstream refuses the token request.
    body = put.json()
    body["protocol"]["credentials"]["client"] = {"client_id": "gatehouse-pkjwt", "client_secret": "not-the-way"}
    body["gatehouse"]["tokenEndpointAuthMethod"] = "client_secret_post"
    put = api(run, "PUT", f"/api/v1/idps/{keyed}", body)
    expect(put.status_code == 200, f"PUT idp: {put.status_code} {put.text[:300]}")
    try:
        departure = run.journey(Browser(run.origin), "GET", site.begin(OKTA) + f"&idp={keyed}")
    except AssertionError as exc:
        expect(str(exc).startswith("stopped at"), f"{exc}")
    else:
        raise AssertionError(f"a client secret got through: {departure}")


SCENARIOS = [
    ("button", button),
    ("profile-update", profile_update),
    ("domain-routing", domain_routing),
    ("no-local-password", no_local_password),
    ("system-log", system_log),
    ("okta-sdk", okta_sdk),
    ("key-rotation", key_rotation),
    ("client-secret-jwt", client_secret_jwt),
    ("private-key-jwt", private_key_jwt),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gatehouse", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--work", required=True)
    parser.add_argument("--okta-python", required=True)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    database = "postgres" if (args.database_url or "").startswith("postgres") else "sqlite"
    print(f"# idp, {database}", flush=True)
    run = Run(args)
    passed = 0
    try:
        try:
            run.gh.cli_json(
                "user", "add", "--login", ADMIN[0], "--email", ADMIN[0],
                "--first-name", "Local", "--last-name", "Admin", "--password", ADMIN[1],
            )  # fmt: skip
            run.client = run.gh.cli_json(
                "app", "create-oidc", "--type", "web", "--label", "NetBox (IdP)",
                "--redirect-uri", redirect_uri(OKTA),
                "--post-logout-redirect-uri", f"{NETBOX_ORIGIN}/",
                "--assign", "Everyone",
                "--groups-claim-name", "groups", "--groups-claim-filter", "REGEX:.*",
            )  # fmt: skip
            run.origin = run.gh.start()
            run.start_upstream()
            run.idp_id = run.gh.cli_json(
                "idp", "add-oidc", "--name", "Upstream", "--issuer", run.upstream,
                "--client-id", "gatehouse", "--client-secret", UPSTREAM_SECRET,
                "--scopes", "openid profile email groups", "--groups-claim", "groups",
                "--domain", "upstream.example",
            )["id"]  # fmt: skip
        except (GatehouseError, OSError, AssertionError) as exc:
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
        run.stop_upstream()
        if passed != len(SCENARIOS):
            print("# last gatehouse output:")
            print("\n".join("#   " + line for line in run.gh.output_tail(20).splitlines()))
        elif not args.keep:
            shutil.rmtree(run.work / "data", ignore_errors=True)
    print(f"RESULT {passed}/{len(SCENARIOS)} scenarios passed (idp, {database})")
    return 0 if passed == len(SCENARIOS) else 1


if __name__ == "__main__":
    sys.exit(main())
