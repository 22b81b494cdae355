"""Okta's own Python SDK (PyPI `okta` 3.x) as a service app: grants Okta API scopes through its
Application Grants API, then authenticates in `authorizationMode: PrivateKey` (client_credentials
at {orgUrl}/oauth2/v1/token with a private_key_jwt assertion) and calls /api/v1 with the token.

The service app itself is registered with raw HTTP (`POST /oauth2/v1/clients`): the SDK does not
wrap dynamic client registration.

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN (SSWS), OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true.
Prints "N passed, M failed"; exits non-zero on any failure.
"""

import asyncio
import base64
import json
import os
import sys
import traceback
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from okta.client import Client as OktaClient
from okta.models import CreateUserRequest, OAuth2ScopeConsentGrant, UserProfile

URL = os.environ["GATEHOUSE_URL"].rstrip("/")
TOKEN = os.environ["GATEHOUSE_TOKEN"]

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def b64url_uint(n):
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def register(public_jwk):
    body = json.dumps({
        "client_name": "okta-sdk-service-app",
        "application_type": "service",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [public_jwk]},
    }).encode()
    req = urllib.request.Request(f"{URL}/oauth2/v1/clients", data=body, method="POST", headers={
        "Authorization": f"SSWS {TOKEN}", "Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as res:
        return res.status, json.load(res)


def last(result):
    return result[-1]


async def main():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    kid = "okta-sdk-kid"
    status, client = register({"kty": "RSA", "kid": kid, "e": b64url_uint(numbers.e), "n": b64url_uint(numbers.n)})
    check("POST /oauth2/v1/clients registers the service app", status == 201, client)
    client_id = client["client_id"]

    admin = OktaClient({"orgUrl": URL, "token": TOKEN})
    for scope in ("okta.users.read", "okta.groups.read"):
        result = await admin.grant_consent_to_scope(client_id, OAuth2ScopeConsentGrant(issuer=URL, scope_id=scope))
        check(f"grant_consent_to_scope({scope})", last(result) is None, last(result))
    grants, _, err = await admin.list_scope_consent_grants(client_id)
    check("list_scope_consent_grants", err is None and sorted(g.scope_id for g in grants) ==
          ["okta.groups.read", "okta.users.read"], err or [g.scope_id for g in grants])

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    service = OktaClient({
        "orgUrl": URL,
        "authorizationMode": "PrivateKey",
        "clientId": client_id,
        "scopes": ["okta.users.read", "okta.groups.read"],
        "privateKey": pem,
        "kid": kid,
    })
    users, _, err = await service.list_users()
    check("PrivateKey mode: list_users with the org-server token", err is None and users is not None, err)
    check("the seeded users are visible", bool(users), users)
    groups, _, err = await service.list_groups()
    check("PrivateKey mode: list_groups (okta.groups.read)", err is None and groups is not None, err)
    req = CreateUserRequest(profile=UserProfile(firstName="Sdk", lastName="Bot", email="sdk.bot@example.com",
                                                login="sdk.bot@example.com"))
    result = await service.create_user(req, activate=False)
    err = last(result)
    code = getattr(err, "error_code", None)
    check("PrivateKey mode: create_user is forbidden without okta.users.manage (E0000006)",
          err is not None and code == "E0000006", f"{err!r} {code}")


try:
    asyncio.run(main())
except Exception:  # noqa: BLE001
    traceback.print_exc()
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
