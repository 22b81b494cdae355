"""Scenarios on two live nodes sharing one database: whatever one node does, the other sees."""

from __future__ import annotations

import time

import jwt

from deployment import ISSUER, Deployment
from idp import SCOPE_CC, Check, describe, expect

# Documented bounds (crates/gatehouse-core/src/oauth2/client_cache.rs): a client changed on
# another node is seen within CLIENT_CACHE_TTL; an unknown client id is never cached, so a new
# client works at once everywhere.
CLIENT_CACHE_TTL = 5.0
# What a request to 127.0.0.1 may add to the bound.
REQUEST_SLACK = 1.0
POLL_INTERVAL = 0.05


def sign_in_a_redeem_b_refresh_a(d: Deployment) -> str:
    _, login = d.create_user(d.a)
    tokens = d.sign_in_tokens(d.a, d.b, login)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    expect(claims.get("iss") == ISSUER, f"B issued iss={claims.get('iss')!r}, want the shared {ISSUER!r}")
    assert d.web is not None
    refreshed = d.oauth(d.a).refresh(d.web, tokens["refresh_token"])
    expect(refreshed.status_code == 200, f"refresh at A of a token redeemed at B: {describe(refreshed)}")
    new_access = refreshed.json()["access_token"]
    expect(new_access != tokens["access_token"], "the refresh at A returned the old access token")
    expect(d.oauth(d.b).introspect(d.web, new_access).get("active") is True, "B: A's refreshed token is not active")
    return "signed in on A, code redeemed at B, refreshed at A, A's token active at B"


def revoke_b_inactive_a(d: Deployment) -> str:
    assert d.web is not None
    _, login = d.create_user(d.a)
    tokens = d.sign_in_tokens(d.a, d.a, login)
    a, b = d.oauth(d.a), d.oauth(d.b)
    for name in ("access_token", "refresh_token"):
        expect(a.introspect(d.web, tokens[name]).get("active") is True, f"A: fresh {name} not active")
    b.revoke(d.web, tokens["access_token"])
    expect(a.introspect(d.web, tokens["access_token"]).get("active") is False, "A: access token revoked at B still active")
    b.revoke(d.web, tokens["refresh_token"])
    expect(a.introspect(d.web, tokens["refresh_token"]).get("active") is False, "A: refresh token revoked at B still active")
    refused = a.refresh(d.web, tokens["refresh_token"])
    expect(refused.status_code == 400, f"A accepted a refresh token revoked at B: {describe(refused)}")
    return "access and refresh tokens revoked at B are inactive at A at once; A refuses the refresh"


def deactivate_user_a_refused_b(d: Deployment) -> str:
    assert d.web is not None
    user_id, login = d.create_user(d.a)
    tokens = d.sign_in_tokens(d.a, d.a, login)
    b = d.oauth(d.b)
    # B has used this user's grant before the deactivation (anything it caches is warm).
    warm = b.refresh(d.web, tokens["refresh_token"])
    expect(warm.status_code == 200, f"B: refresh before deactivation: {describe(warm)}")
    access, refresh = warm.json()["access_token"], warm.json().get("refresh_token", tokens["refresh_token"])
    d.api(d.a).ok("POST", f"/api/v1/users/{user_id}/lifecycle/deactivate", status=(200,))
    refused = b.refresh(d.web, refresh)
    expect(refused.status_code == 400, f"B refreshed for a user deactivated on A: {describe(refused)}")
    for label, token in (("access", access), ("first access", tokens["access_token"]), ("refresh", refresh)):
        active = b.introspect(d.web, token).get("active")
        expect(active is False, f"B: {label} token of a user deactivated on A introspects active={active}")
    return "after deactivation on A, B refuses the refresh and introspects the tokens inactive, at once"


def _poll(until, bound: float) -> float | None:
    """Seconds until `until()` holds, polling up to `bound`; None if it never did."""
    start = time.monotonic()
    while True:
        if until():
            return time.monotonic() - start
        if time.monotonic() - start > bound:
            return None
        time.sleep(POLL_INTERVAL)


def new_app_on_a_used_on_b(d: Deployment) -> str:
    """A new app works on B at once (unknown ids are not cached; asserted within the cache's
    bound), and its deactivation on A reaches B within CLIENT_CACHE_TTL."""
    b = d.oauth(d.b)
    bound = CLIENT_CACHE_TTL + REQUEST_SLACK
    service = d.create_service_app(d.a, "made on A")
    created = time.monotonic()
    last: dict = {"tries": 0}

    def granted() -> bool:
        last["tries"] += 1
        last["r"] = b.client_credentials(service)
        return last["r"].status_code == 200

    delay = _poll(granted, bound)
    expect(delay is not None, f"B did not accept an app created on A within {bound:.0f}s: {describe(last['r'])}")
    tries = last["tries"]
    since_create = time.monotonic() - created
    expect(d.oauth(d.a).client_credentials(service).status_code == 200, "A refuses its own new app")
    # B now holds a cached copy (read just now): the deactivation on A must reach it in time.
    d.api(d.a).ok("POST", f"/api/v1/apps/{service.client_id}/lifecycle/deactivate", status=(200,))
    deactivated = time.monotonic()
    refused_at_a = d.oauth(d.a).client_credentials(service)
    expect(refused_at_a.status_code in (400, 401), f"A still grants to the app it deactivated: {describe(refused_at_a)}")

    def refused() -> bool:
        last["r"] = b.client_credentials(service)
        return last["r"].status_code in (400, 401)

    expect(
        _poll(refused, bound) is not None,
        f"B still grants to an app deactivated on A after {bound:.0f}s "
        f"(documented bound {CLIENT_CACHE_TTL:.0f}s): {describe(last['r'])}",
    )
    lag = time.monotonic() - deactivated
    return (
        f"app made on A granted by B {since_create:.2f}s after the create call returned "
        f"({tries} tr{'y' if tries == 1 else 'ies'}); B refuses it {lag:.2f}s after its deactivation on A "
        f"(documented: within {CLIENT_CACHE_TTL:.0f}s of B's last read)"
    )


def _verify(token: str, jwks: dict, audience: str) -> str | None:
    """None if `token` verifies against `jwks`, else why not."""
    header = jwt.get_unverified_header(token)
    kids = [k.get("kid") for k in jwks.get("keys", [])]
    match = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")]
    if not match:
        return f"kid {header.get('kid')} not in the JWKS (kids {kids})"
    try:
        key = jwt.PyJWK.from_dict(match[0])
        jwt.decode(token, key.key, algorithms=[header["alg"]], audience=audience, issuer=ISSUER, leeway=5)
    except jwt.PyJWTError as exc:
        return f"kid {header.get('kid')}: {type(exc).__name__}: {exc}"
    return None


def key_rotation_cross_jwks(d: Deployment) -> str:
    assert d.web is not None and d.service is not None
    _, login = d.create_user(d.a)
    refresh_token = d.sign_in_tokens(d.a, d.a, login)["refresh_token"]
    # Both nodes have signed and published with the current key (their key caches are warm).
    for node in (d.a, d.b):
        d.oauth(node).token_ok(d.service, grant_type="client_credentials", scope=SCOPE_CC)
        d.oauth(node).jwks()
    keys = d.api(d.a).ok("POST", "/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate", {"use": "sig"})
    active = [k.get("kid") for k in keys if k.get("status") == "ACTIVE"] if isinstance(keys, list) else []
    expect(len(active) == 1, f"keyRotate answered no single ACTIVE key: {keys}")
    failures: dict[str, list[str]] = {}  # "A → B" → why each failing token failed
    counts: dict[str, int] = {}
    for attempt in range(2):
        for signer, other in ((d.a, d.b), (d.b, d.a)):
            o = d.oauth(signer)
            cc = o.token_ok(d.service, grant_type="client_credentials", scope=SCOPE_CC)
            refreshed = o.token_ok(d.web, grant_type="refresh_token", refresh_token=refresh_token, scope="openid offline_access")
            refresh_token = refreshed.get("refresh_token", refresh_token)
            issued = [
                ("client_credentials access token", cc["access_token"], "api://default"),
                ("refresh access token", refreshed["access_token"], "api://default"),
                ("refresh ID token", refreshed.get("id_token", ""), d.web.client_id),
            ]
            jwks = d.oauth(other).jwks()
            pair = f"{signer.name.upper()}-signed vs {other.name.upper()}'s JWKS"
            for label, token, audience in issued:
                expect(bool(token), f"{signer.name}: no {label}")
                counts[pair] = counts.get(pair, 0) + 1
                why = _verify(token, jwks, audience)
                if why:
                    failures.setdefault(pair, []).append(f"{label}: {why}")
        if attempt == 0:
            time.sleep(1.0)
    if failures:
        raise Check(
            f"after keyRotate on A (new active kid {active[0]}): "
            + "; ".join(f"{pair}: {len(whys)} of {counts[pair]} fail, e.g. {whys[0]}" for pair, whys in failures.items())
        )
    return (
        f"{sum(counts.values())} tokens signed by A and B within 1s after keyRotate on A (new kid {active[0]}) "
        "verify against the other node's JWKS"
    )
