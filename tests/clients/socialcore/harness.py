#!/usr/bin/env python3
"""Black-box proof that python-social-auth (social-auth-core), as NetBox uses it, signs in to gatehouse.

Starts a fresh gatehouse (temp data dir, the given database), seeds it through the CLI, then runs
each scenario as a full login over loopback:

  NetBox side  social-core's do_auth()  → the backend's auth_url()
  browser      GET authorize → hosted sign-in form → POST credentials → redirect to redirect_uri
  NetBox side  social-core's do_complete() with the callback's query → token, id_token, userinfo,
               NetBox's pipeline → the logged-in user

Prints `PASS <name>` / `FAIL <name>: <reason>` per scenario and `RESULT <passed>/<total> …` last;
exits non-zero if anything failed. Run it with the python of a venv that has social-auth-core.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import io
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pyotp
import requests
from social_core import exceptions as social_exceptions

from browser import Browser, Departure, Form, Page
from gatehouse import Gatehouse, GatehouseError
from netbox_sim import (
    NETBOX_BACKENDS,
    NETBOX_ORIGIN,
    SOCIAL_CORE_MAJOR,
    SOCIAL_CORE_VERSION,
    NetBoxSite,
    User,
    redirect_uri,
)

OKTA = "okta-openidconnect"
OIDC = "oidc"

# A state that does not match the session: 7.x reports a missing session context, 5.1 a forbidden state.
STATE_REJECTIONS = tuple(
    getattr(social_exceptions, name)
    for name in ("AuthSessionError", "AuthStateForbidden", "AuthStateMissing")
    if hasattr(social_exceptions, name)
)


@dataclass(frozen=True)
class Person:
    login: str
    first_name: str
    last_name: str
    password: str

    @property
    def email(self) -> str:
        return self.login


JANE = Person("jdoe@example.com", "Jane", "Doe", "S3cure-Passw0rd!")
ROBERT = Person("rsmith@example.com", "Robert", "Smith", "An0ther-Passw0rd!")
MIA = Person("mia@example.com", "Mia", "Factor", "T0tp-Passw0rd!")  # signs in with a TOTP factor
ADMINS_GROUP = "NetBoxAdmins"  # Jane only


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Directory:
    """What seeding created in gatehouse."""

    jane_id: str
    mia_id: str
    netbox: Client  # assigned to Everyone
    admins_only: Client  # assigned to ADMINS_GROUP only


@dataclass(frozen=True)
class Env:
    origin: str
    directory: Directory
    api_token: str  # an SSWS token for /api/v1 (`gatehouse token create`)


# --------------------------------------------------------------------------------------------
# Seeding through the gatehouse CLI
# --------------------------------------------------------------------------------------------


def api_admin_token(gh: Gatehouse) -> str:
    """An API token of an administrator made for it (Mia's factor is enrolled through the API)."""
    admin = "api-admin@example.com"
    gh.cli_json(
        "user", "add", "--login", admin, "--email", admin, "--first-name", "Api", "--last-name", "Admin",
        "--password", "Adm1n-Passw0rd!",
    )  # fmt: skip
    gh.cli("user", "admin", "--user", admin)
    return gh.cli_json("token", "create", "--name", "socialcore-mfa", "--user", admin)["token"]


def seed(gh: Gatehouse) -> Directory:
    users = {}
    for person in (JANE, ROBERT, MIA):
        created = gh.cli_json(
            "user", "add", "--login", person.login, "--email", person.email,
            "--first-name", person.first_name, "--last-name", person.last_name,
            "--password", person.password,
        )  # fmt: skip
        if not str(created.get("id", "")).startswith("00u"):
            raise GatehouseError(f"user add returned no 00u… id: {created}")
        users[person.login] = created["id"]

    gh.cli_json("group", "add", "--name", ADMINS_GROUP)
    gh.cli("group", "add-member", "--group", ADMINS_GROUP, "--user", JANE.login)

    def create_app(label: str, group: str) -> Client:
        redirect_uris = [arg for b in (OKTA, OIDC) for arg in ("--redirect-uri", redirect_uri(b))]
        app = gh.cli_json(
            "app", "create-oidc", "--type", "web", "--label", label, *redirect_uris,
            "--post-logout-redirect-uri", f"{NETBOX_ORIGIN}/oauth/disconnect/{OKTA}/",
            "--assign", group,
        )  # fmt: skip
        if not app.get("client_id") or not app.get("client_secret"):
            raise GatehouseError(f"app create-oidc returned no client credentials: {app}")
        return Client(app["client_id"], app["client_secret"])

    return Directory(
        jane_id=users[JANE.login],
        mia_id=users[MIA.login],
        netbox=create_app("NetBox", "Everyone"),
        admins_only=create_app("NetBox (admins only)", ADMINS_GROUP),
    )


# --------------------------------------------------------------------------------------------
# NetBox configurations (configuration.py) and the steps of a login
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """A REMOTE_AUTH_BACKEND configuration, and the authorize endpoint it must lead to."""

    backend: str
    url: Callable[[str], str]  # origin → API_URL / OIDC_ENDPOINT
    authorize_path: str

    def settings(self, origin: str, client: Client) -> dict[str, str]:
        prefix = "SOCIAL_AUTH_OKTA_OPENIDCONNECT" if self.backend == OKTA else "SOCIAL_AUTH_OIDC"
        url_setting = "API_URL" if self.backend == OKTA else "OIDC_ENDPOINT"
        return {
            f"{prefix}_KEY": client.client_id,
            f"{prefix}_SECRET": client.client_secret,
            f"{prefix}_{url_setting}": self.url(origin),
        }


SETUPS = {
    "okta-org-as": Setup(OKTA, lambda o: f"{o}/oauth2/", "/oauth2/v1/authorize"),
    "okta-default-as": Setup(OKTA, lambda o: f"{o}/oauth2/default/", "/oauth2/default/v1/authorize"),
    "oidc-default-as": Setup(OIDC, lambda o: f"{o}/oauth2/default", "/oauth2/default/v1/authorize"),
    "oidc-org-as": Setup(OIDC, lambda o: o, "/oauth2/v1/authorize"),
}


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode({**query_of(url), **changes})))


def begin(env: Env, site: NetBoxSite, setup: Setup) -> tuple[str, str]:
    """NetBox's login view: returns (authorization URL, state)."""
    url = site.begin(setup.backend)
    parts = urlsplit(url)
    endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}"
    expect(endpoint == env.origin + setup.authorize_path, f"social-core sent the browser to {url}")
    state = query_of(url).get("state", "")
    expect(bool(state), f"authorization URL carries no state: {url}")
    return url, state


def check_callback(callback: str, setup: Setup, state: str) -> dict[str, str]:
    expect(
        callback.startswith(redirect_uri(setup.backend) + "?"),
        f"IdP redirected to {callback}, not to the registered redirect_uri",
    )
    params = query_of(callback)
    expect(params.get("state") == state, f"state not echoed unchanged: sent {state!r}, got {callback}")
    return params


def sign_in(env: Env, url: str, person: Person, setup: Setup, state: str) -> str:
    """The browser leg; returns the callback URL carrying an authorization code."""
    departure = Browser(env.origin).sign_in(url, person.login, person.password)
    params = check_callback(departure.url, setup, state)
    expect("code" in params and "error" not in params, f"callback carries no code: {departure.url}")
    return departure.url


def login(env: Env, site: NetBoxSite, setup: Setup, person: Person = JANE) -> User:
    url, state = begin(env, site, setup)
    return site.complete(setup.backend, sign_in(env, url, person, setup, state))


def expected_uid(env: Env, backend: str) -> str:
    if backend == OKTA and SOCIAL_CORE_MAJOR < 7:
        return JANE.login  # 5.1's Okta backends key accounts by preferred_username
    return env.directory.jane_id  # the id_token's sub


def check_jane(env: Env, user: User, backend: str, *, is_new: bool = True) -> None:
    got = {name: getattr(user, name) for name in ("username", "email", "first_name", "last_name")}
    want = {"username": JANE.login, "email": JANE.email, "first_name": JANE.first_name, "last_name": JANE.last_name}
    expect(got == want, f"NetBox user has {got}, expected {want}")
    social = user.social_user
    expect(social.provider == backend, f"social account provider {social.provider!r}, expected {backend!r}")
    uid = expected_uid(env, backend)
    expect(social.uid == uid, f"social uid {social.uid!r}, expected {uid!r}")
    expect(user.is_new is is_new, f"user.is_new is {user.is_new!r}, expected {is_new!r}")


def expect_raises(action: Callable[[], object], kinds: tuple[type[BaseException], ...], what: str) -> BaseException:
    names = "/".join(kind.__name__ for kind in kinds)
    try:
        result = action()
    except kinds as exc:
        return exc
    except Exception as exc:
        raise AssertionError(f"{what}: social-core raised {describe(exc)}, expected {names}") from exc
    raise AssertionError(f"{what}: social-core accepted it ({result!r}), expected {names}")


def expect_refused_sign_in(result: Page | Departure, what: str) -> Page:
    if isinstance(result, Departure):
        raise AssertionError(f"{what}: the IdP redirected to {result.url} instead of refusing")
    expect(result.status in (200, 401), f"{what}: expected the form again with 200/401, got {result.describe()}")
    result.login_form()  # the form is shown again
    return result


def visible_message(page: Page, username: str) -> str:
    # A page may legitimately echo what the visitor typed; only the rest must be identical.
    return page.text.replace(username, "<username>")


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

SCENARIOS: list[tuple[str, Callable[[Env], None]]] = []


def scenario(name: str):
    def register(fn: Callable[[Env], None]) -> Callable[[Env], None]:
        SCENARIOS.append((name, fn))
        return fn

    return register


def _first_login(setup_name: str) -> Callable[[Env], None]:
    def run(env: Env) -> None:
        setup = SETUPS[setup_name]
        site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
        check_jane(env, login(env, site, setup), setup.backend)

    return run


for _name in SETUPS:
    scenario(_name)(_first_login(_name))


@scenario("okta-org-as-returning-user")
def returning_user(env: Env) -> None:
    """A second login (new browser, same NetBox) must land on the same NetBox user."""
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
    first = login(env, site, setup)
    second = login(env, site, setup)
    expect(second is first, f"second login produced {second!r}, first was {first!r}")
    check_jane(env, second, setup.backend, is_new=False)


@scenario("okta-org-as-group-assigned-app")
def group_assigned(env: Env) -> None:
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.admins_only))
    check_jane(env, login(env, site, setup), setup.backend)


@scenario("neg-unassigned-user-denied")
def unassigned_user(env: Env) -> None:
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.admins_only))
    url, state = begin(env, site, setup)
    departure = Browser(env.origin).sign_in(url, ROBERT.login, ROBERT.password)
    params = check_callback(departure.url, setup, state)
    expect(
        params.get("error") == "access_denied" and "code" not in params,
        f"expected error=access_denied and no code, got {departure.url}",
    )
    expect_raises(
        lambda: site.complete(setup.backend, departure.url),
        (social_exceptions.AuthCanceled,),
        "the access_denied callback",
    )


@scenario("neg-tampered-state")
def tampered_state(env: Env) -> None:
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
    url, state = begin(env, site, setup)
    callback = sign_in(env, url, JANE, setup, state)
    forged = state[:-1] + ("A" if state[-1] != "A" else "B")
    expect_raises(
        lambda: site.complete(setup.backend, with_query(callback, state=forged)),
        STATE_REJECTIONS,
        "a callback with a tampered state",
    )
    # The rejection was about the state alone: the genuine callback still completes.
    check_jane(env, site.complete(setup.backend, callback), setup.backend)


@scenario("neg-wrong-password")
def wrong_password(env: Env) -> None:
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
    url, _ = begin(env, site, setup)
    browser = Browser(env.origin)
    form = browser.open(url)
    expect(isinstance(form, Page), f"authorize did not show the sign-in page: {form}")
    wrong = expect_refused_sign_in(browser.submit_login(form, JANE.login, "Wrong-" + JANE.password), "wrong password")
    unknown = expect_refused_sign_in(browser.submit_login(wrong, "nobody@example.com", JANE.password), "unknown user")
    message = visible_message(wrong, JANE.login)
    expect(
        message == visible_message(unknown, "nobody@example.com"),
        f"wrong password and unknown user read differently: {wrong.text!r} vs {unknown.text!r}",
    )
    expect(message != visible_message(form, JANE.login), f"no error message shown: {wrong.text!r}")


@scenario("wrong-password-then-retry")
def retry_after_wrong_password(env: Env) -> None:
    """The re-rendered form must still carry the authorization request."""
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
    url, state = begin(env, site, setup)
    browser = Browser(env.origin)
    form = browser.open(url)
    expect(isinstance(form, Page), f"authorize did not show the sign-in page: {form}")
    wrong = expect_refused_sign_in(browser.submit_login(form, JANE.login, "Wrong-" + JANE.password), "wrong password")
    retry = browser.submit_login(wrong, JANE.login, JANE.password)
    expect(isinstance(retry, Departure), f"retry with the right password did not redirect: {retry}")
    params = check_callback(retry.url, setup, state)
    expect("code" in params, f"callback carries no code: {retry.url}")
    check_jane(env, site.complete(setup.backend, retry.url), setup.backend)


# --------------------------------------------------------------------------------------------
# Multi-factor sign-in (issue 19): pyotp computes the codes
# --------------------------------------------------------------------------------------------


def enroll_totp(env: Env, user_id: str) -> tuple[pyotp.TOTP, float]:
    """Enrolls and activates a TOTP factor through Okta's Factors API; returns it and when."""
    api = requests.Session()
    api.trust_env = False
    api.headers.update({"Authorization": f"SSWS {env.api_token}", "Accept": "application/json"})
    base = f"{env.origin}/api/v1/users/{user_id}/factors"
    enrolled = api.post(base, json={"factorType": "token:software:totp", "provider": "GOOGLE"}, timeout=10)
    expect(enrolled.status_code == 200, f"enroll: HTTP {enrolled.status_code} {enrolled.text[:300]}")
    factor = enrolled.json()
    totp = pyotp.TOTP(factor["_embedded"]["activation"]["sharedSecret"])
    at = time.time()
    activated = api.post(f"{base}/{factor['id']}/lifecycle/activate", json={"passCode": totp.at(at)}, timeout=10)
    expect(
        activated.status_code == 200 and activated.json().get("status") == "ACTIVE",
        f"activate: HTTP {activated.status_code} {activated.text[:300]}",
    )
    return totp, at


def factor_form(page: Page | Departure, what: str) -> Form:
    expect(isinstance(page, Page), f"{what}: expected the factor page, the IdP redirected to {page}")
    for form in page.forms:
        if form.fields.get("action") == "totp" and "code" in form.input_names:
            return form
    raise AssertionError(f"{what}: no TOTP form on {page.describe()}")


def submit_code(browser: Browser, page: Page, code: str) -> Page | Departure:
    form = factor_form(page, "before the code")
    return browser.navigate(form.method.upper(), urljoin(page.url, form.action or page.url), {**form.fields, "code": code})


def id_token_claims(site: NetBoxSite, user: User) -> dict:
    """The ID token's claims as social-core validated them (5.1 keeps no raw token in extra_data)."""
    validated = getattr(getattr(site, "last_backend", None), "id_token", None)
    if isinstance(validated, dict) and validated:
        return validated
    raw = user.social_user.extra_data.get("id_token")
    if isinstance(raw, dict):
        return raw
    expect(isinstance(raw, str) and raw.count(".") == 2, f"no id_token in extra_data: {user.social_user.extra_data}")
    payload = raw.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@scenario("okta-org-as-totp")
def totp_sign_in(env: Env) -> None:
    """Password, then a TOTP code from pyotp: the ID token's amr says otp and mfa. A wrong code and
    a replayed one are refused on the way (and counted, which the Rust tests check)."""
    totp, activated_at = enroll_totp(env, env.directory.mia_id)
    setup = SETUPS["okta-org-as"]
    site = NetBoxSite(setup.settings(env.origin, env.directory.netbox))
    url, state = begin(env, site, setup)
    browser = Browser(env.origin)
    form = browser.open(url)
    expect(isinstance(form, Page), f"authorize did not show the sign-in page: {form}")
    page = browser.submit_login(form, MIA.login, MIA.password)
    factor_form(page, "after the password")
    good = totp.at(activated_at + 30)  # the next step: within the +-1 window, after the used one
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    refused = submit_code(browser, page, wrong)
    factor_form(refused, "a wrong code")
    expect(refused.status == 401, f"a wrong code: expected 401, got {refused.describe()}")
    replayed = submit_code(browser, refused, totp.at(activated_at))
    factor_form(replayed, "the activation's code again")
    departure = submit_code(browser, replayed, good)
    expect(isinstance(departure, Departure), f"the right code did not redirect: {departure}")
    params = check_callback(departure.url, setup, state)
    expect("code" in params, f"callback carries no code: {departure.url}")
    user = site.complete(setup.backend, departure.url)
    expect(user.email == MIA.email, f"NetBox user {user.email!r}, expected {MIA.email!r}")
    amr = id_token_claims(site, user).get("amr")
    expect(isinstance(amr, list) and "otp" in amr and "mfa" in amr, f"id_token amr is {amr!r}")


# Sign-on policies made through /api/v1/policies (issue 19): step-up, refused codes, DENY.
import mfa_policy  # noqa: E402  (uses the helpers above)

mfa_policy.register(scenario, sys.modules[__name__])


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------


def clear_discovery_caches() -> None:
    """Forget cached discovery documents and JWKS, as a freshly started NetBox would.

    social-core caches them process-wide, per class (5.1's generic OIDC) or per class and URL
    (7.x); without this, 5.1's OpenIdConnectAuth would reuse one server's discovery for another.
    """
    for path in NETBOX_BACKENDS:
        module, _, name = path.rpartition(".")
        for klass in getattr(importlib.import_module(module), name).__mro__:
            for attribute in vars(klass).values():
                invalidate = getattr(attribute, "invalidate", None)
                if callable(invalidate):
                    invalidate()


SOCIAL_ERROR_FIELDS = ("code", "stage", "parameter", "claim", "provider_code", "status_code", "detail", "context")


def describe(exc: BaseException) -> str:
    """The exception, its social-core metadata (7.x), and the HTTP response behind it if any."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, social_exceptions.SocialAuthBaseException):
        fields = {name: getattr(exc, name, None) for name in SOCIAL_ERROR_FIELDS}
        shown = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v not in (None, "", {}, "unknown"))
        if shown:
            text += f" ({shown})"
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, requests.Response):
            request = response.request
            return f"{text} [{request.method} {request.url} → HTTP {response.status_code} {response.text[:400]!r}]"
        seen = seen.__cause__ or seen.__context__
    return text


class _MessageOnly(logging.Formatter):
    def formatException(self, ei) -> str:
        return ""  # the failure line already names the exception


def run_scenarios(env: Env, selected: set[str], verbose: bool) -> tuple[int, int]:
    # social-core logs the bodies of failed provider responses; show them with a failure.
    social_log = io.StringIO()
    handler = logging.StreamHandler(social_log)
    handler.setFormatter(_MessageOnly("    social: %(levelname)s %(message)s"))
    logging.getLogger("social").addHandler(handler)
    logging.getLogger("social").setLevel(logging.DEBUG if verbose else logging.WARNING)

    passed = total = 0
    for name, run in SCENARIOS:
        if selected and name not in selected:
            continue
        total += 1
        social_log.seek(0)
        social_log.truncate()
        clear_discovery_caches()
        try:
            run(env)
        except Exception as exc:
            print(f"FAIL {name}: {describe(exc)}", flush=True)
            if social_log.getvalue():
                print(social_log.getvalue().rstrip())
            if verbose:
                traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"PASS {name}", flush=True)
    return passed, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_binary = Path(__file__).resolve().parents[3] / "target" / "debug" / "gatehouse"
    parser.add_argument("--gatehouse", default=os.environ.get("GATEHOUSE_BIN", str(default_binary)))
    parser.add_argument("--database-url", help="default: SQLite in the temporary data dir")
    parser.add_argument("--scenario", action="append", default=[], help="run only these (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir and server log")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    selected = set(args.scenario)
    unknown = selected - {name for name, _ in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    # SIGTERM (e.g. from `timeout`) must still run the finally that stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # social-core uses plain requests, which honours proxy variables: keep loopback direct.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    database = "postgres" if (args.database_url or "").startswith("postgres") else "sqlite"
    print(f"# social-auth-core {SOCIAL_CORE_VERSION}, {database}, {args.gatehouse}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-socialcore-"))
    gh = Gatehouse(args.gatehouse, workdir / "data", workdir / "gatehouse.log", args.database_url)
    total = len(selected) or len(SCENARIOS)
    passed, ok = 0, False
    try:
        try:
            directory = seed(gh)
            api_token = api_admin_token(gh)
            origin = gh.start()
        except (GatehouseError, OSError) as exc:
            print(f"FAIL setup: {exc}")
        else:
            passed, total = run_scenarios(Env(origin, directory, api_token), selected, args.verbose)
        ok = passed == total
    finally:
        gh.stop()  # also on SIGTERM / Ctrl-C
        if not ok and gh.output_tail():
            print("# last gatehouse output:")
            print("\n".join("#   " + line for line in gh.output_tail(15).splitlines()))
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"# kept {workdir} (server log: gatehouse.log)")
    print(f"RESULT {passed}/{total} scenarios passed (social-auth-core {SOCIAL_CORE_VERSION}, {database})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
