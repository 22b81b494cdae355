"""Scenarios where sign-on policies, made through Okta's /api/v1/policies, decide (issue 19).

* policy-mfa-step-up: an app whose ACCESS_POLICY asks for 2FA. A password-only session (NetBox,
  no policy) opening it is stepped up: no password again, a first TOTP factor enrolled on the
  hosted page (pyotp reads the key there), the ID token's amr has otp and mfa and its acr is
  urn:okta:loa:2fa:any (none for the password alone). A new browser then
  signs in with password + code; a wrong code, the enrollment's code replayed and a stale code are
  refused, and each is counted (System Log `user.authentication.auth_via_mfa` FAILURE).
* policy-deny: an OKTA_SIGN_ON rule denying a group: the right password gets NetBox an
  access_denied callback, which social-core refuses; the System Log says DENY.

The harness module is passed to `register` (its helpers: Env, SETUPS, begin, expect...).
"""

from __future__ import annotations

import re
import time
from types import ModuleType
from urllib.parse import urljoin

import pyotp
import requests

from browser import Browser, Departure, Page
from netbox_sim import NetBoxSite

h: ModuleType  # the harness, set by register()

PASSWORD = "P0licy-Passw0rd!"
SECRET = re.compile(r'id="totp-secret">([A-Z2-7=]+)<')


def register(scenario, harness: ModuleType) -> None:
    global h
    h = harness
    scenario("policy-mfa-step-up")(step_up)
    scenario("policy-deny")(deny)


def api(env) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.headers.update({"Authorization": f"SSWS {env.api_token}", "Accept": "application/json"})
    return s


def call(env, method: str, path: str, body: dict | None = None, want: int = 200) -> dict:
    r = api(env).request(method, env.origin + path, json=body, timeout=10)
    h.expect(r.status_code == want, f"{method} {path}: HTTP {r.status_code} {r.text[:300]}")
    return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else {}


def new_user(env, login: str) -> str:
    body = {
        "profile": {"login": login, "email": login, "firstName": "Pat", "lastName": login.split("@")[0]},
        "credentials": {"password": {"value": PASSWORD}},
    }
    return call(env, "POST", "/api/v1/users?activate=true", body)["id"]


def new_group(env, name: str, user_id: str) -> str:
    gid = call(env, "POST", "/api/v1/groups", {"profile": {"name": name, "description": ""}})["id"]
    call(env, "PUT", f"/api/v1/groups/{gid}/users/{user_id}", want=204)
    return gid


def app_id(env, client_id: str) -> str:
    for app in call(env, "GET", "/api/v1/apps?limit=200"):
        if app.get("credentials", {}).get("oauthClient", {}).get("client_id") == client_id:
            return app["id"]
    raise AssertionError(f"no app with client_id {client_id}")


def mfa_failures(env, user_id: str) -> int:
    events = call(env, "GET", '/api/v1/logs?filter=eventType eq "user.authentication.auth_via_mfa"&limit=200')
    return sum(1 for e in events if e["actor"]["id"] == user_id and e["outcome"]["result"] == "FAILURE")


def form_with(page: Page | Departure, action: str, what: str):
    h.expect(isinstance(page, Page), f"{what}: expected a page, the IdP redirected to {page}")
    for form in page.forms:
        if form.fields.get("action") == action:
            return form
    raise AssertionError(f"{what}: no {action!r} form on {page.describe()}")


def post(browser: Browser, page: Page, action: str, what: str, **values: str) -> Page | Departure:
    form = form_with(page, action, what)
    return browser.navigate("POST", urljoin(page.url, form.action or page.url), {**form.fields, **values})


def claims_of(site: NetBoxSite, departure: Page | Departure, state: str) -> dict:
    h.expect(isinstance(departure, Departure), f"no redirect to NetBox: {departure}")
    h.check_callback(departure.url, h.SETUPS["okta-org-as"], state)
    user = site.complete(h.OKTA, departure.url)
    return h.id_token_claims(site, user)


def expect_two_factors(claims: dict, what: str) -> None:
    """amr has otp and mfa, and acr says two factors (Okta's urn:okta:loa:2fa:any) though
    social-core sent no acr_values: a second factor was given."""
    amr = claims.get("amr")
    h.expect(isinstance(amr, list) and "otp" in amr and "mfa" in amr, f"{what} amr is {amr!r}")
    h.expect(claims.get("acr") == "urn:okta:loa:2fa:any", f"{what} acr is {claims.get('acr')!r}")


def step_up(env) -> None:
    setup = h.SETUPS["okta-org-as"]
    login = "pat.stepup@example.com"
    pat = new_user(env, login)
    gid = new_group(env, "NetBoxMfa", pat)
    mfa_app = app_id(env, env.directory.admins_only.client_id)
    call(env, "PUT", f"/api/v1/apps/{mfa_app}/groups/{gid}", {})
    policy = call(env, "POST", "/api/v1/policies", {"type": "ACCESS_POLICY", "name": "NetBox MFA"})["id"]
    try:
        call(env, "POST", f"/api/v1/policies/{policy}/rules", {
            "type": "ACCESS_POLICY", "name": "2FA",
            "actions": {"appSignOn": {"access": "ALLOW", "verificationMethod": {"type": "ASSURANCE", "factorMode": "2FA"}}},
        })  # fmt: skip
        call(env, "PUT", f"/api/v1/apps/{mfa_app}/policies/{policy}", want=204)

        # 1. NetBox, no policy: the password alone.
        browser = Browser(env.origin)
        plain = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
        url, state = h.begin(env, plain, setup)
        claims = claims_of(plain, browser.sign_in(url, login, PASSWORD), state)
        h.expect(claims.get("amr") == ["pwd"], f"password-only amr is {claims.get('amr')!r}")
        h.expect("acr" not in claims, f"password-only, no acr_values: acr {claims.get('acr')!r} (Okta sends none)")

        # 2. The MFA app with that session: stepped up, no password form; Pat has no factor, so
        #    the hosted page enrolls one (pyotp reads the key on it).
        site = NetBoxSite(setup.settings(env.origin, env.directory.admins_only))
        url, state = h.begin(env, site, setup)
        page = browser.open(url)
        h.expect(isinstance(page, Page), f"step-up: the IdP let the password-only session through: {page}")
        h.expect(not any({"username", "password"} <= f.input_names for f in page.forms), "step-up asked for the password")
        found = SECRET.search(page.html)
        h.expect(found is not None, f"no TOTP key on the enrollment page: {page.describe()}")
        totp = pyotp.TOTP(found.group(1))
        enrolled_at = time.time()
        enroll_code = totp.at(enrolled_at)
        codes = post(browser, page, "enroll", "enrollment", code=enroll_code)
        expect_two_factors(claims_of(site, post(browser, codes, "continue", "recovery codes"), state), "stepped-up")

        # 3. A new browser: password, then the code; wrong, replayed and stale codes refused.
        before = mfa_failures(env, pat)
        browser = Browser(env.origin)
        url, state = h.begin(env, site, setup)
        page = browser.submit_login(browser.open(url), login, PASSWORD)
        good = totp.at(enrolled_at + 30)  # the next step: within the +-1 window, after the used one
        for label, code in (
            ("a wrong code", f"{(int(good) + 1) % 1_000_000:06d}"),
            ("the enrollment's code again", enroll_code),
            ("a stale code", totp.at(time.time() - 90)),
        ):
            refused = post(browser, page, "totp", f"before {label}", code=code)
            h.expect(isinstance(refused, Page) and refused.status == 401, f"{label}: expected 401, got {refused}")
            page = refused
        counted = mfa_failures(env, pat) - before
        h.expect(counted == 3, f"{counted} refused codes in the System Log, expected 3")
        expect_two_factors(claims_of(site, post(browser, page, "totp", "the right code", code=good), state), "TOTP")
    finally:
        call(env, "DELETE", f"/api/v1/policies/{policy}", want=204)


def deny(env) -> None:
    setup = h.SETUPS["okta-org-as"]
    login = "pat.denied@example.com"
    pat = new_user(env, login)
    gid = new_group(env, "NetBoxDenied", pat)
    body = {"type": "OKTA_SIGN_ON", "name": "Denied", "conditions": {"people": {"groups": {"include": [gid]}}}}
    policy = call(env, "POST", "/api/v1/policies", body)["id"]
    try:
        call(env, "POST", f"/api/v1/policies/{policy}/rules", {
            "type": "SIGN_ON", "name": "Deny", "actions": {"signon": {"access": "DENY"}},
        })  # fmt: skip
        site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
        url, state = h.begin(env, site, setup)
        departure = Browser(env.origin).sign_in(url, login, PASSWORD)
        params = h.check_callback(departure.url, setup, state)
        h.expect(params.get("error") == "access_denied" and "code" not in params, f"callback {departure.url}")
        h.expect_raises(
            lambda: site.complete(setup.backend, departure.url), (h.social_exceptions.AuthException,), "denied"
        )
        events = call(env, "GET", '/api/v1/logs?filter=eventType eq "policy.evaluate_sign_on"&limit=200')
        mine = [e for e in events if e["actor"]["id"] == pat]
        h.expect(len(mine) == 1 and mine[0]["outcome"]["result"] == "DENY", f"System Log: {mine}")
    finally:
        call(env, "DELETE", f"/api/v1/policies/{policy}", want=204)
