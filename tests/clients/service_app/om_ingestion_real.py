"""The real openmetadata-ingestion 1.2.5.x `OktaAuthenticationProvider` (with the okta SDK 2.9.6
it needs) against Gatehouse served over https (built-in TLS, dev CA in SSL_CERT_FILE).

Set-up as OpenMetadata's "Create Service Application" guide says: `POST /oauth2/v1/clients` with
the mkjwk.org key *pair* set pasted as `jwks`. Then the provider itself, unmodified, builds its
client assertion (python-jose, no kid), sends it in the query string of an empty POST to
`orgURL` = `{issuer}/v1/token` with `scopes: []`, and returns the access token, which is checked
the way OpenMetadata's server does (kid at {issuer}/v1/keys, RS256, exp).

Environment: GATEHOUSE_URL (https://127.0.0.1:<port>), GATEHOUSE_TOKEN (SSWS), SSL_CERT_FILE and
REQUESTS_CA_BUNDLE (the dev CA). Prints "N passed, M failed".
"""

import base64
import json
import os
import sys
import traceback

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt as jose_jwt

from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (  # noqa: E402
    OpenMetadataConnection,
)
from metadata.generated.schema.security.client.oktaSSOClientConfig import (  # noqa: E402
    OktaSSOClientConfig,
)
from metadata.ingestion.ometa.auth_provider import OktaAuthenticationProvider  # noqa: E402

BASE = os.environ["GATEHOUSE_URL"].rstrip("/")
SSWS = os.environ["GATEHOUSE_TOKEN"]
ISSUER = f"{BASE}/oauth2/default"
results = []


def b64url_uint(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mkjwk_key_pair(kid):
    """An RSA 2048 key pair as mkjwk.org's "Public and Private Keypair Set" prints it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub, priv = key.public_key().public_numbers(), key.private_numbers()
    jwk = {
        "p": b64url_uint(priv.p), "kty": "RSA", "q": b64url_uint(priv.q), "d": b64url_uint(priv.d),
        "e": b64url_uint(pub.e), "use": "sig", "kid": kid, "qi": b64url_uint(priv.iqmp),
        "dp": b64url_uint(priv.dmp1), "alg": "RS256", "dq": b64url_uint(priv.dmq1),
        "n": b64url_uint(pub.n),
    }
    return {"keys": [jwk]}


def verify_like_openmetadata(access_token, issuer):
    """JwtFilter: kid from {issuer}/v1/keys, RS256 signature, exp; principal claim."""
    header = jose_jwt.get_unverified_header(access_token)
    assert header.get("kid"), f"no kid in {header}"
    keys = requests.get(f"{issuer}/v1/keys", timeout=20).json()["keys"]
    jwk = next((k for k in keys if k["kid"] == header["kid"]), None)
    assert jwk, f"kid {header['kid']} not in {issuer}/v1/keys"
    claims = jose_jwt.decode(access_token, jwk, algorithms=["RS256"], options={"verify_aud": False})
    principal = next(claims[c] for c in ("email", "preferred_username", "sub") if c in claims)
    return claims, principal


def check(name, fn):
    try:
        fn()
        results.append(True)
        print(f"ok   {name}")
    except BaseException as e:  # noqa: BLE001 - the provider calls sys.exit() on failure
        results.append(False)
        print(f"FAIL {name}: {e!r}")
        traceback.print_exc()


state = {}


def register():
    pair_set = mkjwk_key_pair("om-ingestion-bot")
    res = requests.post(
        f"{BASE}/oauth2/v1/clients",
        headers={"Authorization": f"SSWS {SSWS}", "Accept": "application/json"},
        json={
            "client_name": "OM-service-app",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "token_endpoint_auth_method": "private_key_jwt",
            "application_type": "service",
            "jwks": pair_set,
        },
        timeout=20,
    )
    assert res.status_code == 201, f"{res.status_code} {res.text}"
    state["client_id"] = res.json()["client_id"]
    # The guide has users paste the same key pair set into the ingestion's privateKey.
    state["private_key"] = json.dumps(pair_set["keys"][0])


def provider_token(scopes):
    def run():
        conn = OpenMetadataConnection(
            hostPort="http://localhost:8585/api",
            authProvider="okta",
            securityConfig=OktaSSOClientConfig(
                clientId=state["client_id"],
                orgURL=f"{ISSUER}/v1/token",
                privateKey=state["private_key"],
                email="ingestion-bot@example.com",
                scopes=scopes,
            ),
        )
        token, expiry = OktaAuthenticationProvider.create(conn).get_access_token()
        assert token, "no access token"
        assert isinstance(expiry, int) and expiry > 0, f"expires_in {expiry!r}"
        claims, principal = verify_like_openmetadata(token, ISSUER)
        assert claims["iss"] == ISSUER, claims
        assert claims["cid"] == claims["sub"] == state["client_id"], claims
        assert principal == state["client_id"], principal
        assert claims["scp"] == (scopes or ["om:ingestion"]), claims
        print(f"     token for {principal}, scp={claims['scp']}, expires_in={expiry}")

    return run


def scopes_on_default_server():
    # Seed 003 step 6: a default scope for `scopes: []`, and the custom scope the second check asks for.
    for name, default in (("om:ingestion", True), ("metadata:ingest", False)):
        res = requests.post(
            f"{BASE}/api/v1/authorizationServers/default/scopes",
            headers={"Authorization": f"SSWS {SSWS}", "Accept": "application/json"},
            json={"name": name, "description": "OpenMetadata ingestion", "default": default},
            timeout=20,
        )
        assert res.status_code == 201, f"{name}: {res.status_code} {res.text}"


check("register the service app with POST /oauth2/v1/clients (key pair pasted)", register)
check("the default server gets a default scope and metadata:ingest", scopes_on_default_server)
check("OktaAuthenticationProvider gets a token with scopes: [] (default scopes)", provider_token([]))
check("OktaAuthenticationProvider gets a token with a custom scope", provider_token(["metadata:ingest"]))


def foreign_key_is_refused():
    """The provider with a key pair the app never registered gets no token (it calls sys.exit)."""
    registered = state["private_key"]
    state["private_key"] = json.dumps(mkjwk_key_pair("om-ingestion-bot")["keys"][0])
    try:
        provider_token([])()
    except SystemExit:
        return
    finally:
        state["private_key"] = registered
    raise AssertionError("a token was issued for an unregistered key")


check("an assertion signed by an unregistered key gets no token", foreign_key_is_refused)

passed = sum(results)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
