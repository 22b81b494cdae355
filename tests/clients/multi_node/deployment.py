"""Two nodes on one PostgreSQL database with one encryption key and one public URL, and the
objects the scenarios share: an API token, a web app (code + refresh), a service app
(client_credentials) and the custom scope it asks for."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from idp import SCOPE_CC, Api, Browser, Client, OAuth, REDIRECT_URI, expect, redeem
from nodes import Databases, Node, new_encryption_key

PUBLIC_URL = "http://idp.multi-node.test"
ISSUER = f"{PUBLIC_URL}/oauth2/default"
PASSWORD = "Multi-node-Passw0rd!"
_users = itertools.count(1)


class Deployment:
    def __init__(self, binary: str, work: Path, pid_file: Path, databases: Databases) -> None:
        self.binary = binary
        self.work = work
        self.pid_file = pid_file
        self.database_url = databases.create("two_nodes")
        self.key = new_encryption_key()
        self.a = self.node("a")
        self.b = self.node("b")
        self.token = ""
        self.web: Client | None = None
        self.service: Client | None = None

    def node(self, name: str) -> Node:
        return Node(name, self.binary, self.work, self.pid_file, self.database_url, self.key, PUBLIC_URL)

    def setup(self) -> None:
        # A bootstraps the database; the custom scope exists before B starts, so B's cached copy
        # of the authorization server (SERVER_CACHE_TTL) already has it.
        self.a.start()
        created = json.loads(self.a.cli("token", "create", "--name", "multi-node", "--output", "json"))
        self.token = created["token"]
        self.api(self.a).ok("POST", "/api/v1/authorizationServers/default/scopes", {"name": SCOPE_CC})
        self.b.start()
        self.web = self.create_web_app(self.a, "multi-node web")
        self.service = self.create_service_app(self.a, "multi-node service")

    def api(self, node: Node) -> Api:
        expect(node.alive(), f"node {node.name} is not running")
        return Api(node.url, self.token)

    def oauth(self, node: Node) -> OAuth:
        expect(node.alive(), f"node {node.name} is not running")
        return OAuth(node.url)

    def ensure_running(self) -> None:
        for node in (self.a, self.b):
            if not node.alive():
                node.start()

    def stop(self) -> None:
        for node in (self.a, self.b):
            node.stop()

    # -- objects, made through the API of the given node

    def create_web_app(self, node: Node, name: str) -> Client:
        return create_web_app(self.api(node), name)

    def create_service_app(self, node: Node, name: str) -> Client:
        return create_service_app(self.api(node), name)

    def create_user(self, node: Node) -> tuple[str, str]:
        return create_user(self.api(node))

    def sign_in_tokens(self, sign_in_at: Node, redeem_at: Node, login: str) -> dict:
        """The hosted sign-in on one node, the code redeemed at another."""
        assert self.web is not None
        return sign_in_tokens(sign_in_at.url, redeem_at.url, self.web, login)


def create_web_app(api: Api, name: str) -> Client:
    """A confidential web app (code + refresh, refresh tokens ROTATE with Okta's 30 s grace),
    assigned to Everyone."""
    body = {
        "name": "oidc_client",
        "label": name,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": [REDIRECT_URI],
                "refresh_token": {"rotation_type": "ROTATE", "leeway": 30},
            }
        },
    }
    created = api.ok("POST", "/api/v1/apps?activate=true", body)
    oauth = created["credentials"]["oauthClient"]
    client = Client(oauth["client_id"], oauth["client_secret"])
    everyone = api.ok("GET", "/api/v1/groups?q=Everyone")
    expect(len(everyone) == 1, f"expected the Everyone group: {everyone}")
    api.ok("PUT", f"/api/v1/apps/{created['id']}/groups/{everyone[0]['id']}", {})
    return client


def create_service_app(api: Api, name: str) -> Client:
    """A service app (client_credentials), by dynamic client registration."""
    body = {
        "client_name": name,
        "application_type": "service",
        "grant_types": ["client_credentials"],
        "response_types": ["token"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    created = api.ok("POST", "/oauth2/v1/clients", body)
    return Client(created["client_id"], created["client_secret"])


def create_user(api: Api) -> tuple[str, str]:
    """A new active user with PASSWORD; returns (id, login)."""
    login = f"user{next(_users)}@multi-node.test"
    body = {
        "profile": {"firstName": "Multi", "lastName": "Node", "email": login, "login": login},
        "credentials": {"password": {"value": PASSWORD}},
    }
    user = api.ok("POST", "/api/v1/users?activate=true", body)
    return user["id"], login


def sign_in_tokens(sign_in_url: str, redeem_url: str, client: Client, login: str) -> dict:
    code = Browser(PUBLIC_URL).sign_in(sign_in_url, client, login, PASSWORD)
    return redeem(OAuth(redeem_url), client, code)
