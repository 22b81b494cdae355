"""Gets the tokens the JWT verifier tests check, from a gatehouse served over https.

Standard library only; trusts the dev CA through SSL_CERT_FILE. Through the management API it
registers a service app (POST /oauth2/v1/clients, client_credentials) and a web app, adds a
user and assigns it, signs the user in on the hosted page (code flow with a nonce), and gets a
client_credentials access token. Writes everything the verifiers need to the JSON file given.

  GATEHOUSE_URL    https://localhost:<port>
  GATEHOUSE_TOKEN  an API token (SSWS)
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ["GATEHOUSE_URL"].rstrip("/")
SSWS = os.environ["GATEHOUSE_TOKEN"]
ISSUER = f"{BASE}/oauth2/default"
REDIRECT_URI = "https://verifier-app.test/callback"
PASSWORD = "Verifier-Passw0rd-2026!"

context = ssl.create_default_context()  # SSL_CERT_FILE holds the dev CA
cookies = http.cookiejar.CookieJar()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # hand 3xx back to the caller
        return None


opener = urllib.request.build_opener(
    urllib.request.HTTPSHandler(context=context),
    urllib.request.HTTPCookieProcessor(cookies),
    NoRedirect,
)


def call(method, url, body=None, headers=None, form=None):
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers.setdefault("Accept", "application/json")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with opener.open(req, timeout=20) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def api(method, path, body=None):
    status, _, text = call(method, BASE + path, body, {"Authorization": f"SSWS {SSWS}"})
    if status >= 300:
        sys.exit(f"{method} {path}: {status} {text[:300]}")
    return json.loads(text) if text else None


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token(form, client_id, secret):
    status, headers, text = call(
        "POST", f"{ISSUER}/v1/token", form=form, headers={"Authorization": basic(client_id, secret)}
    )
    if status != 200:
        sys.exit(f"token {form.get('grant_type')}: {status} {text[:300]}")
    return json.loads(text)


def main(out_path):
    # Custom servers grant only scopes they have: a default scope, as seed 003 step 6 adds one.
    api("POST", "/api/v1/authorizationServers/default/scopes", {"name": "verifier.read", "default": True})
    service = api(
        "POST",
        "/oauth2/v1/clients",
        {
            "client_name": "jwt-verifier service",
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    web = api(
        "POST",
        "/oauth2/v1/clients",
        {
            "client_name": "jwt-verifier web",
            "application_type": "web",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    login = f"verifier.{secrets.token_hex(4)}@example.com"
    user = api(
        "POST",
        "/api/v1/users?activate=true",
        {
            "profile": {"firstName": "Vera", "lastName": "Fier", "email": login, "login": login},
            "credentials": {"password": {"value": PASSWORD}},
        },
    )
    api("POST", f"/api/v1/apps/{web['client_id']}/users", {"id": user["id"]})

    cc = token({"grant_type": "client_credentials"}, service["client_id"], service["client_secret"])

    # The code flow through the hosted sign-in page, as a browser would.
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    authorize = f"{ISSUER}/v1/authorize?" + urllib.parse.urlencode(
        {
            "client_id": web["client_id"],
            "response_type": "code",
            "scope": "openid profile email",
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "nonce": nonce,
        }
    )
    status, _, html = call("GET", authorize, headers={"Accept": "text/html"})
    if status != 200:
        sys.exit(f"authorize: {status} {html[:300]}")
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    if not action or "csrf" not in fields:
        sys.exit(f"no sign-in form: {html[:300]}")
    fields.update({"username": login, "password": PASSWORD})
    status, headers, text = call(
        "POST", urllib.parse.urljoin(authorize, action.group(1).replace("&amp;", "&")), form=fields,
        headers={"Accept": "text/html"},
    )
    location = headers.get("Location") or headers.get("location") or ""
    if status not in (302, 303) or not location.startswith(REDIRECT_URI):
        sys.exit(f"sign-in: {status} {location} {text[:300]}")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if query.get("state") != state or "code" not in query:
        sys.exit(f"callback: {location}")
    code_tokens = token(
        {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI},
        web["client_id"],
        web["client_secret"],
    )

    host = urllib.parse.urlsplit(BASE)
    fixtures = {
        "issuer": ISSUER,
        # The same server under another host name: same keys, different issuer string.
        "other_issuer": f"https://localhost:{host.port}/oauth2/default",
        "audience": "api://default",
        "service_client_id": service["client_id"],
        "web_client_id": web["client_id"],
        "user_login": login,
        "nonce": nonce,
        "cc_access_token": cc["access_token"],
        "cc_expires_in": cc["expires_in"],
        "user_access_token": code_tokens["access_token"],
        "id_token": code_tokens["id_token"],
    }
    with open(out_path, "w") as f:
        json.dump(fixtures, f)
    print(f"tokens ready: service app {service['client_id']}, web app {web['client_id']}, user {login}")


if __name__ == "__main__":
    main(sys.argv[1])
