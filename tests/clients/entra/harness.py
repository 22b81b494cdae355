#!/usr/bin/env python3
"""Black-box proof that python-social-auth's Azure AD backends, as NetBox uses them, sign in to gatehouse.

social-core builds every Azure AD URL as `https://{AUTHORITY_HOST}/{tenant}/…`, so gatehouse runs
over https here (built-in TLS with a `gatehouse dev-cert` certificate; requests trusts its CA through
REQUESTS_CA_BUNDLE) and NetBox's settings change only the host:

  SOCIAL_AUTH_AZUREAD_OAUTH2_AUTHORITY_HOST = "127.0.0.1:<port>"   (and the same per backend)

Each scenario is a full login through the NetBox stand-in of tests/clients/socialcore (social-core's
own do_auth / do_complete and NetBox's pipeline): authorize, the hosted sign-in form, the token
request, the ID token verified against the tenant's discovery document and key set.

Prints `PASS <name>` / `FAIL <name>: <reason>` per scenario and `RESULT <passed>/<total> …` last.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "socialcore"))

import requests  # noqa: E402

from browser import Browser  # noqa: E402
from gatehouse import Gatehouse, GatehouseError  # noqa: E402
from netbox_sim import NETBOX_SETTINGS, SOCIAL_CORE_MAJOR, SOCIAL_CORE_VERSION, NetBoxSite, redirect_uri  # noqa: E402

V1, TENANT, V2, V2_TENANT = "azuread-oauth2", "azuread-tenant-oauth2", "azuread-oauth2-v2", "azuread-v2-tenant-oauth2"
AZURE_BACKENDS = [
    "social_core.backends.azuread.AzureADOAuth2",
    "social_core.backends.azuread.AzureADOAuth2V2",
    "social_core.backends.azuread_tenant.AzureADTenantOAuth2",
    "social_core.backends.azuread_tenant.AzureADV2TenantOAuth2",
]
PASSWORD = "S3cure-Passw0rd!"
LOGIN = "jdoe@example.com"


@dataclass(frozen=True)
class Env:
    origin: str
    authority: str  # host:port, what AUTHORITY_HOST names
    tenant_id: str
    jane_id: str
    client_id: str
    client_secret: str
    ca: str


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def seed(gh: Gatehouse) -> tuple[str, str, str]:
    jane = gh.cli_json(
        "user", "add", "--login", LOGIN, "--email", LOGIN, "--first-name", "Jane", "--last-name", "Doe",
        "--password", PASSWORD,
    )  # fmt: skip
    uris = [a for b in (V1, TENANT, V2, V2_TENANT) for a in ("--redirect-uri", redirect_uri(b))]
    app = gh.cli_json("app", "create-oidc", "--type", "web", "--label", "NetBox (Entra)", *uris, "--assign", "Everyone")
    return jane["id"], app["client_id"], app["client_secret"]


def prefix(backend: str) -> str:
    return "SOCIAL_AUTH_" + backend.upper().replace("-", "_")


def settings(env: Env, backend: str, **extra: str) -> dict[str, object]:
    p = prefix(backend)
    base = {
        "AUTHENTICATION_BACKENDS": [*NETBOX_SETTINGS["AUTHENTICATION_BACKENDS"], *AZURE_BACKENDS],
        f"{p}_KEY": env.client_id,
        f"{p}_SECRET": env.client_secret,
        f"{p}_AUTHORITY_HOST": env.authority,
    }
    if backend in (TENANT, V2_TENANT):
        base[f"{p}_TENANT_ID"] = env.tenant_id
    base.update({f"{p}_{k}": v for k, v in extra.items()})
    return base


def expected_uid(env: Env, backend: str) -> str:
    if SOCIAL_CORE_MAJOR >= 7 or backend == TENANT:
        return env.jane_id  # `sub`
    return LOGIN  # 5.1: `upn` (v1, v2) or `preferred_username` (v2 tenant)


def login(env: Env, backend: str, site: NetBoxSite, tenant_in_url: str) -> object:
    url = site.begin(backend)
    parts = urlsplit(url)
    v2 = backend in (V2, V2_TENANT)
    want = f"{env.origin}/{tenant_in_url}/oauth2/{'v2.0/' if v2 else ''}authorize"
    expect(f"{parts.scheme}://{parts.netloc}{parts.path}" == want, f"social-core sent the browser to {url}")
    browser = Browser(env.origin)
    browser.http.verify = env.ca  # the browser session ignores REQUESTS_CA_BUNDLE (trust_env off)
    departure = browser.sign_in(url, LOGIN, PASSWORD)
    expect(departure.url.startswith(redirect_uri(backend) + "?code="), f"callback {departure.url}")
    return site.complete(backend, departure.url)


def check_jane(env: Env, site: NetBoxSite, user, backend: str, ver: str) -> None:
    got = (user.email, user.first_name, user.last_name)
    expect(got == (LOGIN, "Jane", "Doe"), f"NetBox user has {got}")
    social = user.social_user
    expect(social.provider == backend, f"provider {social.provider!r}")
    expect(social.uid == expected_uid(env, backend), f"social uid {social.uid!r}")
    extra = social.extra_data
    # social-core validated the ID token (signature, aud, iss); what it read from it:
    validated = getattr(site.last_backend, "_validated", None) or {}
    for name, value in {"tid": env.tenant_id, "oid": env.jane_id, "upn": LOGIN, "ver": ver}.items():
        expect(validated.get(name) == value, f"id_token {name}={validated.get(name)!r}, expected {value!r}")
    expect(extra.get("access_token"), f"no access_token in extra_data: {extra}")


def capture_claims() -> None:
    """Keep the claims validate_and_return_id_token returns on the backend, to check them."""
    for path in AZURE_BACKENDS:
        module, _, name = path.rpartition(".")
        klass = getattr(importlib.import_module(module), name)
        original = klass.__dict__.get("validate_and_return_id_token")
        if original is None or getattr(original, "_captures", False):
            continue

        def wrapper(self, id_token, _original=original):
            claims = _original(self, id_token)
            self._validated = claims
            return claims

        wrapper._captures = True
        klass.validate_and_return_id_token = wrapper


SCENARIOS: list[tuple[str, Callable[[Env], None]]] = []


def scenario(name: str):
    def register(fn: Callable[[Env], None]) -> Callable[[Env], None]:
        SCENARIOS.append((name, fn))
        return fn

    return register


def _first_login(backend: str, ver: str) -> Callable[[Env], None]:
    def run(env: Env) -> None:
        site = NetBoxSite(settings(env, backend))
        tenant = env.tenant_id if backend in (TENANT, V2_TENANT) else "common"
        check_jane(env, site, login(env, backend, site, tenant), backend, ver)

    return run


for _backend, _ver in ((V1, "1.0"), (TENANT, "1.0"), (V2, "2.0"), (V2_TENANT, "2.0")):
    scenario(_backend)(_first_login(_backend, _ver))


@scenario("azuread-v2-tenant-oauth2-returning-user")
def returning_user(env: Env) -> None:
    site = NetBoxSite(settings(env, V2_TENANT))
    first = login(env, V2_TENANT, site, env.tenant_id)
    second = login(env, V2_TENANT, site, env.tenant_id)
    expect(second is first and second.is_new is False, f"second login produced {second!r}, first {first!r}")


def authority_url(env: Env) -> None:
    """7.x only (5.1 has no such setting): AUTHORITY_URL names the whole base (`https://host/{tenant}`)."""
    s = settings(env, TENANT, AUTHORITY_URL=f"{env.origin}/{env.tenant_id}")
    del s[f"{prefix(TENANT)}_AUTHORITY_HOST"]
    site = NetBoxSite(s)
    check_jane(env, site, login(env, TENANT, site, env.tenant_id), TENANT, "1.0")


if SOCIAL_CORE_MAJOR >= 7:
    scenario("azuread-tenant-oauth2-authority-url")(authority_url)


@scenario("neg-other-tenant-refused")
def other_tenant(env: Env) -> None:
    """A TENANT_ID that is not this org's: gatehouse shows an error page and never redirects."""
    site = NetBoxSite({**settings(env, V2_TENANT), f"{prefix(V2_TENANT)}_TENANT_ID": "00000000-0000-4000-8000-000000000000"})
    url = site.begin(V2_TENANT)
    response = requests.get(url, allow_redirects=False, timeout=10, verify=env.ca)
    expect(response.status_code == 400 and "Location" not in response.headers, f"HTTP {response.status_code}")
    expect("AADSTS90002" in response.text, f"page does not say the tenant is unknown: {response.text[:300]!r}")


def clear_caches() -> None:
    for path in AZURE_BACKENDS:
        module, _, name = path.rpartition(".")
        for klass in getattr(importlib.import_module(module), name).__mro__:
            for attribute in vars(klass).values():
                invalidate = getattr(attribute, "invalidate", None)
                if callable(invalidate):
                    invalidate()


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, requests.Response):
            return f"{text} [{response.request.method} {response.request.url} → HTTP {response.status_code} {response.text[:400]!r}]"
        seen = seen.__cause__ or seen.__context__
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gatehouse", default=os.environ.get("GATEHOUSE_BIN", "target/debug/gatehouse"))
    parser.add_argument("--database-url")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    selected = set(args.scenario)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    database = "postgres" if (args.database_url or "").startswith("postgres") else "sqlite"
    print(f"# social-auth-core {SOCIAL_CORE_VERSION}, {database}, {args.gatehouse}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-entra-"))
    data = workdir / "data"
    gh = Gatehouse(args.gatehouse, data, workdir / "gatehouse.log", args.database_url)
    capture_claims()
    passed = total = 0
    ok = False
    try:
        try:
            jane_id, client_id, client_secret = seed(gh)
            gh.cli("dev-cert")
            origin = gh.start("--tls-cert", str(data / "dev-cert.pem"), "--tls-key", str(data / "dev-key.pem"))
            ca = str(data / "dev-ca.pem")
            os.environ["REQUESTS_CA_BUNDLE"] = ca  # social-core's own requests trust the dev CA
            authority = urlsplit(origin).netloc
            # The tenant id, as an admin reads it: discovery under the host's own name.
            doc = requests.get(f"{origin}/{authority}/v2.0/.well-known/openid-configuration", timeout=10).json()
            tenant_id = doc["issuer"].removeprefix(f"{origin}/").removesuffix("/v2.0")
        except (GatehouseError, OSError, KeyError, ValueError) as exc:
            print(f"FAIL setup: {exc}")
        else:
            env = Env(origin, authority, tenant_id, jane_id, client_id, client_secret, ca)
            print(f"# tenant id {tenant_id}", flush=True)
            for name, run in SCENARIOS:
                if selected and name not in selected:
                    continue
                total += 1
                clear_caches()
                try:
                    run(env)
                except Exception as exc:
                    print(f"FAIL {name}: {describe(exc)}", flush=True)
                    if args.verbose:
                        traceback.print_exc(file=sys.stdout)
                else:
                    passed += 1
                    print(f"PASS {name}", flush=True)
            ok = passed == total and total > 0
    finally:
        gh.stop()
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
