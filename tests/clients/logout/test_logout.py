"""The session kill switch and back-channel logout, driven by Okta's own Python SDK (PyPI `okta`
3.x, unmodified) and checked by a real back-channel logout receiver (receiver.mjs: `jose`
verifying each logout token against the issuer's JWKS).

1. An app registers `backchannel_logout_uri` (the receiver) through /api/v1/apps.
2. A user signs in (Okta's /api/v1/authn, the session cookie, /authorize) and gets
   an ID token (with `sid`), an access token and a refresh token.
3. The SDK clears the user's sessions with oauthTokens=true (3.x calls it
   `revoke_user_sessions`; older SDKs `clear_user_sessions`): the refresh token gets
   `invalid_grant`, the access token introspects inactive, the session is gone, and the
   receiver gets a valid logout token with the ID token's `sid`.
4. RP-initiated logout and `DELETE /api/v1/sessions/me` each deliver one too.

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN, RECEIVER_URL (the app and its credentials are made
here, and its client id given to the receiver as the audience to expect). Prints one line per check and "N passed, N failed"; exits non-zero on failure.
"""

import asyncio
import base64
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

from okta.client import Client as OktaClient
from okta.models import CreateUserRequest, PasswordCredential, UserCredentialsWritable, UserProfile

URL = os.environ["GATEHOUSE_URL"]
TOKEN = os.environ["GATEHOUSE_TOKEN"]
RECEIVER = os.environ["RECEIVER_URL"]
ISSUER = f"{URL}/oauth2/default"
REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "correct horse battery 7"
RUN = uuid.uuid4().hex[:8]

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


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def http(method, url, body=None, headers=None, form=None):
    """(status, headers, parsed body or text)."""
    headers = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    headers.setdefault("accept", "application/json")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        res = opener.open(req, timeout=20)
    except urllib.error.HTTPError as e:
        res = e
    raw = res.read().decode()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return res.status, res.headers, parsed


def api(method, path, body=None):
    return http(method, f"{URL}{path}", body, {"authorization": f"SSWS {TOKEN}"})


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def make_app():
    """A web app with the receiver as its back-channel logout URI, assigned to Everyone."""
    status, _, app = api("POST", "/api/v1/apps", {
        "name": "oidc_client",
        "label": f"Logout receiver {RUN}",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {
            "application_type": "web",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "backchannel_logout_uri": f"{RECEIVER}/backchannel-logout",
            "backchannel_logout_session_required": True,
        }},
    })
    if status != 200:
        raise RuntimeError(f"create app: {status} {app}")
    check("the app's settings echo backchannel_logout_uri",
          app["settings"]["oauthClient"].get("backchannel_logout_uri") == f"{RECEIVER}/backchannel-logout", app)
    _, _, groups = api("GET", "/api/v1/groups?q=Everyone")
    everyone = next(g for g in groups if g["profile"]["name"] == "Everyone")
    status, _, _ = api("PUT", f"/api/v1/apps/{app['id']}/groups/{everyone['id']}", {})
    if status != 200:
        raise RuntimeError(f"assign app: {status}")
    creds = app["credentials"]["oauthClient"]
    req = urllib.request.Request(f"{RECEIVER}/audience", data=creds["client_id"].encode(), method="POST")
    opener.open(req, timeout=10).read()
    return creds["client_id"], creds["client_secret"]


def sign_in(login, client_id, secret):
    """(session cookie, tokens): Okta's /api/v1/authn for a sessionToken, traded for the session
    cookie at /login/sessionCookieRedirect (as a browser would), then /authorize with it."""
    status, _, authn = http("POST", f"{URL}/api/v1/authn", {"username": login, "password": PASSWORD})
    if status != 200 or authn.get("status") != "SUCCESS":
        raise RuntimeError(f"authn: {status} {authn}")
    query = urllib.parse.urlencode({"token": authn["sessionToken"], "redirectUrl": f"{URL}/"})
    status, headers, _ = http("GET", f"{URL}/login/sessionCookieRedirect?{query}")
    cookie = next((c.split(";")[0].split("=", 1)[1] for c in headers.get_all("set-cookie") or []
                   if c.startswith("gh_sid=")), None)
    if status != 302 or not cookie:
        raise RuntimeError(f"sessionCookieRedirect: {status} {headers}")
    query = urllib.parse.urlencode({
        "client_id": client_id, "response_type": "code", "scope": "openid offline_access",
        "redirect_uri": REDIRECT, "state": "s", "nonce": "n",
    })
    status, headers, _ = http("GET", f"{ISSUER}/v1/authorize?{query}", headers={"cookie": f"gh_sid={cookie}"})
    location = headers.get("location", "")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [None])[0]
    if status != 302 or not code:
        raise RuntimeError(f"authorize: {status} {location}")
    status, _, tokens = http("POST", f"{ISSUER}/v1/token", headers={"authorization": basic(client_id, secret)},
                             form={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    if status != 200:
        raise RuntimeError(f"token: {status} {tokens}")
    return cookie, tokens


def introspect(token, client_id, secret):
    _, _, body = http("POST", f"{ISSUER}/v1/introspect", headers={"authorization": basic(client_id, secret)},
                      form={"token": token, "token_type_hint": "access_token"})
    return body


def received(n, timeout=15):
    """Waits for the receiver's n-th verified logout token; (claims or None, refusals)."""
    deadline = time.time() + timeout
    while True:
        _, _, body = http("GET", f"{RECEIVER}/received")
        if len(body["received"]) >= n or time.time() > deadline:
            got = body["received"][n - 1] if len(body["received"]) >= n else None
            return got, body["refused"]
        time.sleep(0.2)


def check_token(name, claims, refused, user_id, id_token, client_id):
    check(f"{name}: the receiver verified a logout token", claims is not None, f"refused: {refused}")
    if claims is None:
        return
    sid = jwt_claims(id_token).get("sid")
    check(f"{name}: sub is the user", claims.get("sub") == user_id, claims)
    check(f"{name}: sid is the ID token's", sid and claims.get("sid") == sid, f"{claims} vs {sid}")
    check(f"{name}: aud is the app", claims.get("aud") == client_id, claims)


async def main():
    client = OktaClient({"orgUrl": URL, "token": TOKEN, "requestTimeout": 30})
    client_id, secret = make_app()
    login = f"logout-{RUN}@example.com"
    user, _, err = await client.create_user(
        CreateUserRequest(
            profile=UserProfile(firstName="Lou", lastName="Gout", email=login, login=login),
            credentials=UserCredentialsWritable(password=PasswordCredential(value=PASSWORD)),
        ),
        activate=True,
    )
    if err:
        raise RuntimeError(f"create user: {err}")

    cookie, tokens = sign_in(login, client_id, secret)
    check("the ID token carries sid", "sid" in jwt_claims(tokens["id_token"]))
    check("the access token introspects active", introspect(tokens["access_token"], client_id, secret).get("active") is True)

    clear = getattr(client, "clear_user_sessions", None) or client.revoke_user_sessions
    result = await clear(user.id, oauth_tokens=True)
    err = result[-1]
    check(f"SDK {clear.__name__}(user_id, oauth_tokens=True)", err is None, f"error: {err}")

    status, _, body = http("POST", f"{ISSUER}/v1/token", headers={"authorization": basic(client_id, secret)},
                           form={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    check("the refresh token gets invalid_grant", status == 400 and body.get("error") == "invalid_grant", f"{status} {body}")
    check("the access token introspects inactive",
          introspect(tokens["access_token"], client_id, secret) == {"active": False})
    query = urllib.parse.urlencode({"client_id": client_id, "response_type": "code", "scope": "openid",
                                    "redirect_uri": REDIRECT, "state": "s", "prompt": "none"})
    _, headers, _ = http("GET", f"{ISSUER}/v1/authorize?{query}", headers={"cookie": f"gh_sid={cookie}"})
    check("the session is gone (prompt=none: login_required)", "error=login_required" in headers.get("location", ""),
          headers.get("location"))
    claims, refused = received(1)
    check_token("kill switch", claims, refused, user.id, tokens["id_token"], client_id)

    cookie, tokens = sign_in(login, client_id, secret)
    query = urllib.parse.urlencode({"id_token_hint": tokens["id_token"]})
    status, _, _ = http("GET", f"{ISSUER}/v1/logout?{query}", headers={"cookie": f"gh_sid={cookie}"})
    check("RP-initiated logout answers", status == 200, status)
    claims, refused = received(2)
    check_token("RP-initiated logout", claims, refused, user.id, tokens["id_token"], client_id)

    cookie, tokens = sign_in(login, client_id, secret)
    status, _, _ = http("DELETE", f"{URL}/api/v1/sessions/me", headers={"cookie": f"gh_sid={cookie}"})
    check("DELETE /api/v1/sessions/me answers 204", status == 204, status)
    claims, refused = received(3)
    check_token("DELETE /api/v1/sessions/me", claims, refused, user.id, tokens["id_token"], client_id)

    _, _, logs = api("GET", "/api/v1/logs?filter=" + urllib.parse.quote('eventType eq "user.session.clear"'))
    check("the System Log has user.session.clear", any(e["target"][0]["id"] == user.id for e in logs), logs)
    _, _, logs = api("GET", "/api/v1/logs?filter=" + urllib.parse.quote('eventType eq "app.oauth2.backchannel_logout"'))
    check("the System Log has three delivered logout tokens",
          sum(1 for e in logs if e["outcome"]["result"] == "SUCCESS") == 3, logs)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception:
        traceback.print_exc()
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
