"""HTTP against one node: the management API (SSWS), the OAuth endpoints, and a browser that
signs in on the hosted login page.

All nodes of a deployment share one public URL (what a load balancer would be called), so
their issuers match. A request goes straight to one node's 127.0.0.1 address; a URL the node
hands out on the public origin (the form's action) is sent to whichever node the test picks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

TIMEOUT = 10.0  # seconds, every request
REDIRECT_URI = "http://app.multi-node.test/callback"
SCOPE_CC = "multi_node:read"


class Check(AssertionError):
    """A failed expectation: the scenario fails with this message."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Check(message)


def describe(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.request.method} {response.url}: {response.text[:300]!r}"


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxies or netrc: 127.0.0.1 directly
    return s


_plain = session()


class Api:
    """/api/v1 (and /oauth2/v1/clients) on one node with an SSWS token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, json_body=None, http: requests.Session | None = None) -> requests.Response:
        return (http or _plain).request(
            method, self.url + path, json=json_body, headers=self.headers, timeout=TIMEOUT, allow_redirects=False
        )

    def ok(self, method: str, path: str, json_body=None, status: tuple[int, ...] = (200, 201, 204)):
        r = self.call(method, path, json_body)
        expect(r.status_code in status, f"expected {status}: {describe(r)}")
        return r.json() if r.content else None


@dataclass
class Client:
    client_id: str
    client_secret: str


class OAuth:
    """The default authorization server's endpoints on one node."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base = f"{url}/oauth2/default/v1"

    def token(self, client: Client, **form: str) -> requests.Response:
        return _plain.post(
            f"{self.base}/token", data=form, auth=(client.client_id, client.client_secret), timeout=TIMEOUT
        )

    def token_ok(self, client: Client, **form: str) -> dict:
        r = self.token(client, **form)
        expect(r.status_code == 200, f"token request {form.get('grant_type')} refused: {describe(r)}")
        return r.json()

    def client_credentials(self, client: Client) -> requests.Response:
        return self.token(client, grant_type="client_credentials", scope=SCOPE_CC)

    def refresh(self, client: Client, refresh_token: str) -> requests.Response:
        return self.token(client, grant_type="refresh_token", refresh_token=refresh_token)

    def introspect(self, client: Client, token: str) -> dict:
        r = _plain.post(
            f"{self.base}/introspect", data={"token": token}, auth=(client.client_id, client.client_secret), timeout=TIMEOUT
        )
        expect(r.status_code == 200, f"introspection failed: {describe(r)}")
        return r.json()

    def revoke(self, client: Client, token: str) -> None:
        r = _plain.post(
            f"{self.base}/revoke", data={"token": token}, auth=(client.client_id, client.client_secret), timeout=TIMEOUT
        )
        expect(r.status_code == 200, f"revocation failed: {describe(r)}")

    def jwks(self) -> dict:
        r = _plain.get(f"{self.base}/keys", timeout=TIMEOUT)
        expect(r.status_code == 200, f"JWKS: {describe(r)}")
        return r.json()


@dataclass
class LoginForm:
    action: str  # path and query, to be sent to whichever node
    fields: dict[str, str]


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    expect(match is not None, f"the sign-in page has no hidden {name!r} field: {html[:300]!r}")
    return unescape(match.group(1))


class Browser:
    """A cookie jar and no automatic redirects. requests keys cookies by host, not port, so
    cookies set by one node go to every node on 127.0.0.1, as behind a load balancer."""

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url
        self.http = session()

    def _on(self, node_url: str, url: str) -> str:
        """`url` (public origin, or any node's) re-aimed at `node_url`."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return node_url + path

    def open_login(self, node_url: str, client: Client, scope: str = "openid offline_access") -> LoginForm:
        params = {
            "client_id": client.client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": REDIRECT_URI,
            "state": "multi-node-state",
            "nonce": "multi-node-nonce",
        }
        r = self.http.get(f"{node_url}/oauth2/default/v1/authorize", params=params, timeout=TIMEOUT, allow_redirects=False)
        expect(r.status_code == 200, f"expected the sign-in page: {describe(r)}")
        expect("gh_csrf" in self.http.cookies, f"the sign-in page set no gh_csrf cookie: {r.headers}")
        match = re.search(r'<form method="post" action="([^"]*)"', r.text)
        expect(match is not None, f"no sign-in form: {r.text[:300]!r}")
        action = urlsplit(urljoin(r.url, unescape(match.group(1))))
        return LoginForm(
            action=action.path + (f"?{action.query}" if action.query else ""),
            fields={"tx": _hidden(r.text, "tx"), "csrf": _hidden(r.text, "csrf")},
        )

    def submit_login(self, node_url: str, form: LoginForm, username: str, password: str) -> str:
        """POSTs the form to `node_url`; returns the authorization code from the redirect."""
        data = {**form.fields, "username": username, "password": password}
        r = self.http.post(node_url + form.action, data=data, timeout=TIMEOUT, allow_redirects=False)
        expect(r.status_code in (302, 303), f"sign-in did not redirect: {describe(r)}")
        location = r.headers.get("Location", "")
        expect(location.startswith(REDIRECT_URI + "?"), f"sign-in went elsewhere: {location}")
        query = parse_qs(urlsplit(location).query)
        expect("code" in query, f"no code in the redirect: {location}")
        expect(query.get("state") == ["multi-node-state"], f"state lost: {location}")
        return query["code"][0]

    def sign_in(self, node_url: str, client: Client, username: str, password: str) -> str:
        return self.submit_login(node_url, self.open_login(node_url, client), username, password)


def redeem(oauth: OAuth, client: Client, code: str) -> dict:
    tokens = oauth.token_ok(client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    for name in ("access_token", "id_token", "refresh_token"):
        expect(name in tokens, f"the code exchange returned no {name}: {sorted(tokens)}")
    return tokens
