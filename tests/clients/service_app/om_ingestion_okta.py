"""openmetadata-ingestion's Okta bot flow against Gatehouse, over the wire as the real client does it.

openmetadata-ingestion <= 1.2's `OktaAuthenticationProvider` (metadata/ingestion/ometa/auth_provider.py)
needs the okta SDK <= 2.9.6 and an OpenMetadata 1.2 server, so this script reproduces its requests
with PyJWT + requests instead:

  * set-up, as OpenMetadata's "Create Service Application" guide says: an SSWS token,
    `POST /oauth2/v1/clients` with the mkjwk.org *key pair* set pasted as `jwks`, then the Okta
    API scopes granted to the app;
  * the token request: claims {sub, iat, exp = iat + 3600, iss, aud = orgURL, jti = uuid4},
    signed RS256 with header {"alg": "RS256", "typ": "JWT"} (no kid), and every parameter in the
    query string of a POST with an empty body, `scope` joined by spaces (empty for `scopes: []`);
  * what OpenMetadata's server (JwtFilter) then checks: a kid found at `{issuer}/v1/keys`, RS256,
    `exp`, and the principal = the first of email / preferred_username / sub.

Environment: GATEHOUSE_URL (e.g. http://127.0.0.1:8080), GATEHOUSE_TOKEN (an SSWS API token).
Prints "N passed, M failed" and exits non-zero on any failure.
"""

import base64
import json
import os
import sys
import time
import traceback
import uuid
from urllib.parse import quote, urlencode

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

BASE = os.environ["GATEHOUSE_URL"].rstrip("/")
SSWS = os.environ["GATEHOUSE_TOKEN"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TIMEOUT = 20

results = []


def check(name, fn):
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        results.append((name, e))
        print(f"FAIL {name}: {e}")
        traceback.print_exc()


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
    return key, {"keys": [jwk]}


def api(method, path, body=None, bearer=None):
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    headers["Authorization"] = f"Bearer {bearer}" if bearer else f"SSWS {SSWS}"
    return requests.request(method, BASE + path, headers=headers, json=body, timeout=TIMEOUT)


def client_assertion(key, client_id, org_url):
    """OktaAuthenticationProvider.auth_token's assertion (python-jose there, PyJWT here)."""
    issued = int(time.time())
    claims = {
        "sub": client_id, "iat": issued, "exp": issued + 3600,
        "iss": client_id, "aud": org_url, "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT"})


def token_request(org_url, assertion, scopes):
    """The okta SDK RequestExecutor's POST: parameters in the query, empty body, no Authorization."""
    parameters = {
        "grant_type": "client_credentials",
        "scope": " ".join(scopes),
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    url = f"{org_url}?" + urlencode(parameters, quote_via=quote)
    return requests.post(
        url,
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        data=b"",
        timeout=TIMEOUT,
    )


def verify_like_openmetadata(access_token, issuer):
    """JwtFilter: kid from {issuer}/v1/keys, RS256 signature, exp (no leeway); principal claim."""
    header = jwt.get_unverified_header(access_token)
    assert header.get("kid"), f"no kid in {header}"
    keys = requests.get(f"{issuer}/v1/keys", timeout=TIMEOUT).json()["keys"]
    jwk = next((k for k in keys if k["kid"] == header["kid"]), None)
    assert jwk, f"kid {header['kid']} not in {issuer}/v1/keys"
    public = jwt.PyJWK.from_dict(jwk).key
    claims = jwt.decode(access_token, public, algorithms=["RS256"], options={"verify_aud": False})
    principal = next(claims[c] for c in ("email", "preferred_username", "sub") if c in claims)
    return claims, principal


state = {}


def register_service_app():
    key, pair_set = mkjwk_key_pair("om-ingestion-bot")
    res = api("POST", "/oauth2/v1/clients", {
        "client_name": "OM-service-app-postman-4",
        "grant_types": ["client_credentials"],
        "response_types": ["token"],
        "token_endpoint_auth_method": "private_key_jwt",
        "application_type": "service",
        "jwks": pair_set,
    })
    assert res.status_code == 201, f"{res.status_code} {res.text}"
    body = res.json()
    for field in ("client_id", "client_id_issued_at", "client_name", "grant_types", "response_types",
                  "token_endpoint_auth_method", "application_type", "jwks"):
        assert field in body, f"{field} missing from {body}"
    assert "client_secret" not in body, "private_key_jwt clients get no secret"
    stored = body["jwks"]["keys"][0]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(stored), f"private members kept: {stored}"
    state.update(key=key, client_id=body["client_id"])


def grant_okta_api_scopes():
    for scope in ("okta.users.read", "okta.users.manage", "okta.clients.read"):
        res = api("POST", f"/api/v1/apps/{state['client_id']}/grants", {"issuer": BASE, "scopeId": scope})
        assert res.status_code == 201, f"{scope}: {res.status_code} {res.text}"
    res = api("GET", f"/api/v1/apps/{state['client_id']}/grants")
    assert sorted(g["scopeId"] for g in res.json()) == ["okta.clients.read", "okta.users.manage", "okta.users.read"]


def default_scope_on_default_server():
    # Seed 003 step 6: the default server needs a default scope for a request that names none.
    res = api("POST", "/api/v1/authorizationServers/default/scopes",
              {"name": "om:ingestion", "description": "OpenMetadata ingestion", "default": True})
    assert res.status_code == 201, f"{res.status_code} {res.text}"


def ingestion_token_from_default_server():
    issuer = f"{BASE}/oauth2/default"
    org_url = f"{issuer}/v1/token"  # securityConfig.orgURL = "{ISSUER_URL}/v1/token"
    assertion = client_assertion(state["key"], state["client_id"], org_url)
    assert "kid" not in jwt.get_unverified_header(assertion)
    res = token_request(org_url, assertion, [])  # scopes: [] as the docs say
    assert res.status_code == 200, f"{res.status_code} {res.text}"
    assert res.headers["Content-Type"].startswith("application/json")
    body = res.json()
    assert isinstance(body["expires_in"], int), "expires_in must be a JSON number"
    assert "refresh_token" not in body and "id_token" not in body
    claims, principal = verify_like_openmetadata(body["access_token"], issuer)
    assert claims["sub"] == claims["cid"] == state["client_id"] and "uid" not in claims, claims
    assert principal == state["client_id"], principal  # add it to botPrincipals
    for reserved in ("isBot", "tokenType", "email", "preferred_username"):
        assert reserved not in claims, f"{reserved} must not be emitted"
    state["assertion"] = assertion
    state["org_url"] = org_url


def replayed_assertion_is_refused():
    res = token_request(state["org_url"], state["assertion"], [])
    assert res.status_code == 401 and res.json()["error"] == "invalid_client", res.text


def org_token_reads_users_but_cannot_write():
    org_url = f"{BASE}/oauth2/v1/token"
    res = token_request(org_url, client_assertion(state["key"], state["client_id"], org_url), ["okta.users.read"])
    assert res.status_code == 200, f"{res.status_code} {res.text}"
    at = res.json()["access_token"]
    users = api("GET", "/api/v1/users?limit=5", bearer=at)
    assert users.status_code == 200 and isinstance(users.json(), list), users.text
    create = api("POST", "/api/v1/users?activate=false", {"profile": {
        "firstName": "Bot", "lastName": "Made", "email": "bot@example.com", "login": "bot@example.com"}}, bearer=at)
    assert create.status_code == 403 and create.json()["errorCode"] == "E0000006", create.text
    bad = api("GET", "/api/v1/users", bearer=at[:-4] + "AAAA")
    assert bad.status_code == 401 and bad.json()["errorCode"] == "E0000011", bad.text


check("register the ingestion service app (POST /oauth2/v1/clients, key pair pasted)", register_service_app)
check("grant okta.users.read, okta.users.manage, okta.clients.read", grant_okta_api_scopes)
check("add a default scope to the default authorization server", default_scope_on_default_server)
check("OktaAuthenticationProvider's token request on /oauth2/default (query string, no kid, no scope)",
      ingestion_token_from_default_server)
check("the same assertion again is refused (jti is single-use)", replayed_assertion_is_refused)
check("an org-server token with okta.users.read reads /api/v1/users but cannot create users",
      org_token_reads_users_but_cannot_write)

failed = sum(1 for _, e in results if e)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
