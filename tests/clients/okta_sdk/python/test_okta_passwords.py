"""Passwords through Okta's own Python SDK (PyPI `okta` 3.x), unmodified: the PASSWORD policy is
listed through the SDK's models and tightened (Okta's JSON, sent as-is); a weak password is
refused at user creation; `change_password` (wrong old password refused, right one accepted);
`expire_password`, then a hosted sign-in (form posts with `requests`, as a browser would) that
asks for a new password, refuses one the policy refuses, accepts a good one and goes on to the
app's code, exchanged for an ID token; a user imported with a bcrypt hash made by Python's
`bcrypt` signs in with the original password.

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN, OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true (set by
tests/clients/run_okta_sdk.sh). Prints one line per check and "N passed, N failed".
"""

import asyncio
import base64
import hashlib
import html
import os
import re
import secrets
import sys
import traceback
import uuid
from urllib.parse import parse_qs, urlencode, urlparse

import bcrypt
import requests
from okta.client import Client as OktaClient
from okta.models import (
    ChangePasswordRequest,
    CreateUserRequest,
    PasswordCredential,
    PasswordCredentialHash,
    UserCredentialsWritable,
    UserProfile,
)

URL = os.environ["GATEHOUSE_URL"]
TOKEN = os.environ["GATEHOUSE_TOKEN"]
RUN = uuid.uuid4().hex[:8]
REDIRECT = "http://127.0.0.1:9/callback"
API = {"Authorization": f"SSWS {TOKEN}", "Accept": "application/json"}

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def enum(v):
    return getattr(v, "value", v)


def causes(err):
    return " ".join(c.get("errorSummary", "") for c in getattr(err, "error_causes", None) or [])


def hidden(page, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    return html.unescape(m.group(1)) if m else None


def new_user(login, first="Grace", last="Hopper", password=None, hash_=None):
    return CreateUserRequest(
        profile=UserProfile(firstName=first, lastName=last, email=login, login=login),
        credentials=UserCredentialsWritable(password=PasswordCredential(value=password, hash=hash_)),
    )


def web_app():
    """An OIDC web app for everyone (plain REST: the app's shape is not what this test is about)."""
    body = {
        "name": "oidc_client", "label": f"py-{RUN}-pw", "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"],
                                     "response_types": ["code"], "redirect_uris": [REDIRECT]}},
    }
    app = requests.post(f"{URL}/api/v1/apps", json=body, headers=API, timeout=20).json()
    everyone = requests.get(f"{URL}/api/v1/groups", params={"q": "Everyone"}, headers=API, timeout=20).json()
    requests.put(f"{URL}/api/v1/apps/{app['id']}/groups/{everyone[0]['id']}", json={}, headers=API, timeout=20)
    oc = app["credentials"]["oauthClient"]
    return oc["client_id"], oc["client_secret"]


def hosted_sign_in(client_id, login, password):
    """Opens /authorize and posts the sign-in form: (session, the answer to the form)."""
    s = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = {"client_id": client_id, "response_type": "code", "scope": "openid", "redirect_uri": REDIRECT,
         "state": "st-" + RUN, "nonce": "n-" + RUN, "code_challenge": challenge, "code_challenge_method": "S256"}
    form = s.get(f"{URL}/oauth2/v1/authorize?{urlencode(q)}", timeout=20, allow_redirects=False)
    data = {"tx": hidden(form.text, "tx"), "csrf": hidden(form.text, "csrf"), "username": login, "password": password}
    answer = s.post(f"{URL}/login", data=data, timeout=20, allow_redirects=False)
    s.verifier = verifier
    return s, answer


def code_of(answer):
    loc = answer.headers.get("Location", "")
    return parse_qs(urlparse(loc).query).get("code", [None])[0] if loc.startswith(REDIRECT) else None


async def main():
    client = OktaClient({"orgUrl": URL, "token": TOKEN, "requestTimeout": 30})

    # ---- the PASSWORD policy, through the SDK's models and Okta's JSON
    policies, _, err = await client.list_policies(type="PASSWORD")
    check("list_policies(type=PASSWORD)", err is None, err)
    default = [p for p in policies or [] if p.system]
    check("  ... the default policy, ACTIVE", len(default) == 1 and enum(default[0].status) == "ACTIVE", policies)
    pid = default[0].id if default else ""
    body = {"type": "PASSWORD", "name": "Default Policy", "settings": {"password": {
        "complexity": {"minLength": 10, "minNumber": 1, "excludeUsername": True,
                       "dictionary": {"common": {"exclude": True}}},
        "age": {"historyCount": 2}}}}
    r = requests.put(f"{URL}/api/v1/policies/{pid}", json=body, headers=API, timeout=20)
    check("PUT the default PASSWORD policy (minLength 10, a number, common list, history 2)", r.status_code == 200, r.text)
    got, _, err = await client.get_policy(pid)
    check("get_policy reads the settings back",
          err is None and got.settings.password.complexity.min_length == 10
          and got.settings.password.age.history_count == 2, err or got)

    # ---- creation refuses what the policy refuses
    login = f"py-{RUN}-pw@example.com"
    _, _, err = await client.create_user(new_user(login, password="Password123"), activate=True)
    check("create_user with a common password -> E0000001",
          err is not None and getattr(err, "error_code", "") == "E0000001"
          and "commonly used" in causes(err), repr(err))
    user, _, err = await client.create_user(new_user(login, password="Harbor-lights-41"), activate=True)
    check("create_user with a good password", err is None and enum(user.status) == "ACTIVE", err)

    # ---- change_password
    req = lambda old, new: ChangePasswordRequest(old_password=PasswordCredential(value=old),  # noqa: E731
                                                 new_password=PasswordCredential(value=new))
    _, _, err = await client.change_password(user.id, req("wrong-old-pass-1", "Second-pass-42"))
    check("change_password with a wrong old password -> E0000014",
          err is not None and getattr(err, "error_code", "") == "E0000014", repr(err))
    _, _, err = await client.change_password(user.id, req("Harbor-lights-41", "Harbor-lights-41"))
    check("change_password to the same password -> refused (history)",
          err is not None and "used too recently" in causes(err), repr(err))
    creds, _, err = await client.change_password(user.id, req("Harbor-lights-41", "Second-pass-42"))
    check("change_password", err is None and creds is not None, err)

    # ---- expire_password, then the hosted sign-in asks for a new one
    expired, _, err = await client.expire_password(user.id)
    check("expire_password -> PASSWORD_EXPIRED", err is None and enum(expired.status) == "PASSWORD_EXPIRED", err)
    client_id, client_secret = web_app()
    s, page = hosted_sign_in(client_id, login, "Second-pass-42")
    check("hosted sign-in asks for a new password", page.status_code == 200 and "Your password has expired" in page.text,
          page.status_code)
    form = {"tx": hidden(page.text, "tx"), "csrf": hidden(page.text, "csrf"),
            "stateToken": hidden(page.text, "stateToken")}
    weak = s.post(f"{URL}/login/password-expired", timeout=20, allow_redirects=False,
                  data={**form, "newPassword": "short1", "confirmPassword": "short1"})
    check("  ... a new password the policy refuses is shown again with the reason",
          weak.status_code == 400 and "at least 10 characters" in weak.text, weak.status_code)
    done = s.post(f"{URL}/login/password-expired", timeout=20, allow_redirects=False,
                  data={**form, "newPassword": "Third-pass-4242", "confirmPassword": "Third-pass-4242"})
    code = code_of(done)
    check("  ... a good one continues to the app with a code", done.status_code == 302 and code, done.headers)
    tokens = requests.post(f"{URL}/oauth2/v1/token", auth=(client_id, client_secret), timeout=20, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": s.verifier}).json()
    check("  ... the code gives an ID token", "id_token" in tokens, tokens)
    again, _, err = await client.get_user(user.id)
    check("  ... the user is ACTIVE again", err is None and enum(again.status) == "ACTIVE", err)

    # ---- a user imported with a bcrypt hash signs in with the original password
    made = bcrypt.hashpw(b"Imported-secret-7", bcrypt.gensalt(rounds=10)).decode()
    salt, value = made[7:29], made[29:]
    blogin = f"py-{RUN}-bcrypt@example.com"
    imported, _, err = await client.create_user(
        new_user(blogin, "Ada", "Lovelace",
                 hash_=PasswordCredentialHash(algorithm="BCRYPT", work_factor=10, salt=salt, value=value)),
        activate=True)
    check("create_user with credentials.password.hash (BCRYPT)", err is None and enum(imported.status) == "ACTIVE", err)
    _, answer = hosted_sign_in(client_id, blogin, "Imported-secret-7")
    check("  ... signs in with the original password", answer.status_code == 302 and code_of(answer), answer.status_code)
    _, wrong = hosted_sign_in(client_id, blogin, "Imported-secret-8")
    check("  ... and not with another", wrong.status_code == 401, wrong.status_code)
    _, answer = hosted_sign_in(client_id, blogin, "Imported-secret-7")
    check("  ... again, after the rehash to argon2id", answer.status_code == 302 and code_of(answer), answer.status_code)

    # The default policy back as it was, for the other SDK tests on this server.
    body = {"type": "PASSWORD", "name": "Default Policy", "settings": {"password": {
        "complexity": {"minLength": 8, "minNumber": 0, "excludeUsername": False,
                       "dictionary": {"common": {"exclude": False}}}, "age": {"historyCount": 0}}}}
    requests.put(f"{URL}/api/v1/policies/{pid}", json=body, headers=API, timeout=20)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception:  # a crash is a failure, with its trace
        traceback.print_exc()
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
