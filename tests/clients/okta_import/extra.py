"""The parts of the Okta import proof beyond NetBox's sign-in (used by harness.py):

- a service app with a private key (`private_key_jwt`, its JWKS registered at the source) and an
  Okta API scope grant: after the import it gets an org-server token with its *old* key (PyJWT)
  and reads /api/v1 with it; an ungranted scope and another key are refused;
- the single-page app, whose redirect URIs and trusted origin point at a local page: after the
  import okta-auth-js signs in with the source's client id (spa_signin.js, headless Chromium);
- the imported authorization server's groups claim, policy and rule, and the app's grants, as
  the importing gatehouse's /api/v1 shows them;
- changes at the source between two imports (a changed group, a new user, a deleted user and a
  deleted trusted origin).
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent
KID = "inventory-sync-2024"
GRANTED = "okta.users.read"
LATE_JOINER = "late.joiner@example.com"
LEAVER = "user298@example.com"
GONE_ORIGIN = "https://portal.example.com"


class Failure(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64u(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def new_key() -> tuple[str, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256", "e": _b64u(numbers.e), "n": _b64u(numbers.n)}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), jwk


def seed_service_app(api, origin: str) -> dict:
    """A service app authenticating with a private key, granted one Okta API scope."""
    pem, jwk = new_key()
    app = api.json(
        "POST",
        "/api/v1/apps",
        {
            "name": "oidc_client",
            "label": "Inventory Sync",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
            "settings": {
                "oauthClient": {
                    "response_types": ["token"],
                    "grant_types": ["client_credentials"],
                    "application_type": "service",
                    "jwks": {"keys": [jwk]},
                }
            },
        },
    )
    api.json("POST", f"/api/v1/apps/{app['id']}/grants", {"scopeId": GRANTED, "issuer": origin})
    return {"service_client_id": app["credentials"]["oauthClient"]["client_id"], "service_key": pem}


def spa_oauth_settings(port: int) -> dict:
    spa = f"http://127.0.0.1:{port}"
    return {
        "redirect_uris": [f"{spa}/v{v}/default/callback" for v in ("7", "8")],
        "post_logout_redirect_uris": [f"{spa}/v{v}/default/signed-out" for v in ("7", "8")],
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "application_type": "browser",
        "refresh_token": {"rotation_type": "ROTATE", "leeway": 30},
    }


def seed_spa_origin(api, port: int) -> None:
    api.json(
        "POST",
        "/api/v1/trustedOrigins",
        {"name": "SPA", "origin": f"http://127.0.0.1:{port}", "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}]},
    )


def client_credentials(origin: str, client_id: str, pem: str, scope: str) -> requests.Response:
    """client_credentials at the org server with a private_key_jwt assertion (RFC 7523)."""
    url = f"{origin}/oauth2/v1/token"
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": url, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    assertion = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": KID})
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    return requests.post(url, data=form, headers={"Accept": "application/json"}, timeout=30)


def check_service_app(target: str, seeded: dict) -> None:
    cid, pem = seeded["service_client_id"], seeded["service_key"]
    res = client_credentials(target, cid, pem, GRANTED)
    expect(res.status_code == 200, f"token with the old key: {res.status_code} {res.text[:300]}")
    token = res.json()["access_token"]
    user = requests.get(f"{target}/api/v1/users/{seeded['jane_id']}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    expect(user.status_code == 200 and user.json().get("id") == seeded["jane_id"], f"/api/v1/users with the token: {user.status_code} {user.text[:200]}")
    ungranted = client_credentials(target, cid, pem, "okta.groups.read")
    expect(ungranted.status_code == 400 and ungranted.json().get("error") == "invalid_scope", f"an ungranted scope: {ungranted.status_code} {ungranted.text[:200]}")
    other, _ = new_key()
    forged = client_credentials(target, cid, other, GRANTED)
    expect(forged.status_code == 401 and forged.json().get("error") == "invalid_client", f"another key: {forged.status_code} {forged.text[:200]}")


def check_server_config(target: str, token: str, seeded: dict) -> None:
    """The custom server's groups claim, policy and rule, and the service app's grant, here."""
    h = {"Authorization": f"SSWS {token}", "Accept": "application/json"}

    def get(path: str):
        res = requests.get(target + path, headers=h, timeout=30)
        expect(res.ok, f"GET {path}: {res.status_code} {res.text[:200]}")
        return res.json()

    base = f"/api/v1/authorizationServers/{seeded['server_id']}"
    claims = [c for c in get(f"{base}/claims") if c["name"] == "groups"]
    expect(len(claims) == 1, f"groups claims: {claims}")
    c = claims[0]
    got = (c["claimType"], c["valueType"], c["value"], c.get("group_filter_type"), c["alwaysIncludeInToken"])
    expect(got == ("IDENTITY", "GROUPS", "Eng", "STARTS_WITH", True), f"groups claim {got}")
    policies = [p for p in get(f"{base}/policies") if p["name"] == "Engineering apps"]
    expect(len(policies) == 1, f"policies: {policies}")
    clients = policies[0]["conditions"]["clients"]["include"]
    expect(clients == [seeded["web_client_id"]], f"policy clients {clients}")
    rules = get(f"{base}/policies/{policies[0]['id']}/rules")
    rule = next((r for r in rules if r["name"] == "Engineers"), None)
    expect(rule is not None, f"rules: {[r['name'] for r in rules]}")
    engineering = next(g for g in get("/api/v1/groups?q=Engineering") if g["profile"]["name"] == "Engineering")
    groups = rule["conditions"]["people"]["groups"]["include"]
    expect(groups == [engineering["id"]], f"the rule's groups {groups}, expected Engineering here ({engineering['id']})")
    expect(rule["conditions"]["grantTypes"]["include"] == ["authorization_code"], f"grant types {rule['conditions']['grantTypes']}")
    expect(rule["actions"]["token"]["accessTokenLifetimeMinutes"] == 30, f"token actions {rule['actions']['token']}")
    grants = [g["scopeId"] for g in get(f"/api/v1/apps/{seeded['service_client_id']}/grants")]
    expect(grants == [GRANTED], f"the service app's grants here: {grants}")


def spa_sign_in(target: str, seeded: dict, login: str, password: str) -> None:
    env = os.environ | {
        "GH_URL": target,
        "CLIENT_ID": seeded["spa_client_id"],
        "SPA_PORT": str(seeded["spa_port"]),
        "GH_LOGIN": login,
        "GH_PASSWORD": password,
        "EXPECT_SUB": seeded["jane_id"],
    }
    done = subprocess.run(["node", str(HERE / "spa_signin.js")], capture_output=True, text=True, timeout=180, env=env)
    out = done.stdout + done.stderr
    print("\n".join("  | " + line for line in out.splitlines() if line.strip()), flush=True)
    expect(done.returncode == 0, f"okta-auth-js exited {done.returncode}")


def change_source(api) -> dict:
    """Between two imports: one group changed, one user added, one user and one origin deleted."""
    engineering = next(g for g in api.json("GET", "/api/v1/groups?q=Engineering") if g["profile"]["name"] == "Engineering")
    api.json("PUT", f"/api/v1/groups/{engineering['id']}", {"profile": {"name": "Engineering", "description": "Builders and makers"}})
    late = api.json(
        "POST",
        "/api/v1/users?activate=false",
        {"profile": {"login": LATE_JOINER, "email": LATE_JOINER, "firstName": "Late", "lastName": "Joiner"}},
    )
    leaver = api.json("GET", f"/api/v1/users/{LEAVER}")
    for _ in range(2):  # the first DELETE deactivates, the second deletes
        res = api.call("DELETE", f"/api/v1/users/{leaver['id']}")
        expect(res.status_code == 204, f"DELETE user: {res.status_code} {res.text[:200]}")
    origin = next(o for o in api.json("GET", "/api/v1/trustedOrigins") if o["origin"] == GONE_ORIGIN)
    res = api.call("DELETE", f"/api/v1/trustedOrigins/{origin['id']}")
    expect(res.status_code == 204, f"DELETE trusted origin: {res.status_code} {res.text[:200]}")
    return {"late_id": late["id"], "leaver_id": leaver["id"], "origin_id": origin["id"]}


def deleted_lines(output: str) -> list[str]:
    """The report's "Deleted at the source" section."""
    lines, inside = [], False
    for line in output.splitlines():
        if line.startswith("Deleted at the source"):
            inside = True
        elif inside and line.startswith("  - "):
            lines.append(line[4:])
        elif inside:
            break
    return lines
