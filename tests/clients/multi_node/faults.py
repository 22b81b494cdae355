"""Faults: kill -9 in the middle of a sign-in and under write load, and two nodes starting at
the same moment on an empty database."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from deployment import PASSWORD, PUBLIC_URL, Deployment, create_user, create_web_app, sign_in_tokens
from idp import Api, Browser, Check, Client, OAuth, describe, expect, redeem, session
from nodes import Databases, Node, NodeError, new_encryption_key

LOAD_WORKERS = 8
REFRESH_WORKERS = 4  # of LOAD_WORKERS, each rotating its own refresh token family
# Kill once this many writes were acknowledged (or after LOAD_MAX_SECONDS), so every round
# kills with requests in flight.
KILL_AFTER_ACKS = 60
LOAD_MAX_SECONDS = 5.0
ROUNDS = 3
SIMULTANEOUS_ATTEMPTS = 3


def kill9_between_form_and_post(d: Deployment) -> str:
    assert d.web is not None
    _, login = d.create_user(d.a)
    browser = Browser(PUBLIC_URL)
    form = browser.open_login(d.a.url, d.web)
    d.a.kill9()
    try:
        # Without the browser's cookies the same form is refused: the POST on B rests on them.
        stranger = session().post(
            d.b.url + form.action, data={**form.fields, "username": login, "password": PASSWORD},
            timeout=10, allow_redirects=False,
        )
        expect("code=" not in stranger.headers.get("Location", ""), f"B signed in without the cookies: {describe(stranger)}")
        code = browser.submit_login(d.b.url, form, login, PASSWORD)
        tokens = redeem(d.oauth(d.b), d.web, code)
    finally:
        d.a.start()
    active = d.oauth(d.a).introspect(d.web, tokens["access_token"]).get("active")
    expect(active is True, f"restarted A: the token B issued introspects active={active}")
    return f"sign-in page from A, A killed -9, the POST finished on B with the same cookies (without them: HTTP {stranger.status_code}), token active at restarted A"


@dataclass
class Family:
    """One signed-in user's rotating refresh token: `token` is the newest one acknowledged."""

    client: Client
    token: str
    rotations: int = 0


class Load:
    """Concurrent writes at one node until it is killed: user creations through /api/v1 (half
    the workers) and refresh-token rotations, which go through the token group commit (the other
    half). Every 2xx is an acknowledged write."""

    def __init__(self, node_url: str, token: str, tag: str, families: list[Family]) -> None:
        self.api = Api(node_url, token)
        self.oauth = OAuth(node_url)
        self.tag = tag
        self.families = families
        self.users: list[tuple[str, str]] = []  # (id, login) of acknowledged creations
        self.rotations = 0
        self.cut_off = 0  # requests that got no answer (the node died under them)
        self.refused: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def acked(self) -> int:
        return len(self.users) + self.rotations

    def create_users(self, n: int) -> None:
        http = session()
        for i in itertools.count():
            if self.stop.is_set():
                return
            login = f"load-{self.tag}-{n}-{i}@multi-node.test"
            body = {"profile": {"firstName": "Load", "lastName": "Test", "email": login, "login": login}}
            try:
                r = self.api.call("POST", "/api/v1/users?activate=false", body, http=http)
            except requests.RequestException:
                with self.lock:
                    self.cut_off += 1
                return
            with self.lock:
                if 200 <= r.status_code < 300:
                    self.users.append((r.json()["id"], login))
                else:
                    self.refused.append(describe(r))

    def rotate(self, family: Family) -> None:
        while not self.stop.is_set():
            try:
                r = self.oauth.refresh(family.client, family.token)
            except requests.RequestException:
                with self.lock:
                    self.cut_off += 1
                return
            with self.lock:
                if r.status_code == 200:
                    family.token = r.json()["refresh_token"]
                    family.rotations += 1
                    self.rotations += 1
                else:
                    self.refused.append(describe(r))
                    return

    def run_until_killed(self, node: Node) -> None:
        with ThreadPoolExecutor(LOAD_WORKERS) as pool:
            for n in range(LOAD_WORKERS - len(self.families)):
                pool.submit(self.create_users, n)
            for family in self.families:
                pool.submit(self.rotate, family)
            deadline = time.monotonic() + LOAD_MAX_SECONDS
            while time.monotonic() < deadline and self.acked() < KILL_AFTER_ACKS:
                time.sleep(0.01)
            node.kill9()
            self.stop.set()
        expect(not self.refused, f"writes refused before the kill: {self.refused[:3]}")
        expect(bool(self.users) and self.rotations > 0, f"too few acknowledged writes within {LOAD_MAX_SECONDS}s: "
               f"{len(self.users)} users, {self.rotations} rotations")

    def summary(self) -> str:
        return f"{len(self.users)} users + {self.rotations} rotations acked, {self.cut_off} cut off"


def missing_writes(node_url: str, token: str, load: Load) -> list[str]:
    """The acknowledged writes `node_url` does not show: users not found, and families whose
    newest acknowledged refresh token is not active."""
    api, oauth = Api(node_url, token), OAuth(node_url)

    def check_user(entry: tuple[str, str]) -> str | None:
        user_id, login = entry
        r = api.call("GET", f"/api/v1/users/{user_id}")
        if r.status_code != 200:
            return f"user {user_id} ({login}): {describe(r)}"
        if r.json().get("profile", {}).get("login") != login:
            return f"user {user_id}: login {r.json().get('profile', {}).get('login')!r}, want {login!r}"
        return None

    def check_family(family: Family) -> str | None:
        active = oauth.introspect(family.client, family.token).get("active")
        return None if active is True else f"refresh token after {family.rotations} acked rotations: active={active}"

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(check_user, load.users)) + list(pool.map(check_family, load.families))
    return [m for m in found if m]


def families(node_url: str, api: Api, client: Client) -> list[Family]:
    out = []
    for _ in range(REFRESH_WORKERS):
        _, login = create_user(api)
        out.append(Family(client, sign_in_tokens(node_url, node_url, client, login)["refresh_token"]))
    return out


def kill9_under_load_postgres(d: Deployment) -> str:
    assert d.web is not None
    report = []
    fams = families(d.a.url, d.api(d.a), d.web)
    for round_ in range(1, ROUNDS + 1):
        load = Load(d.a.url, d.token, f"pg{round_}", fams)
        load.run_until_killed(d.a)
        # B shares the database: everything A acknowledged is there, A's restart or not.
        missing = missing_writes(d.b.url, d.token, load)
        expect(not missing, f"round {round_}: {len(missing)} writes acknowledged by A ({load.summary()}) "
               f"are missing at B after A was killed: {missing[:3]}")
        d.a.start()
        missing = missing_writes(d.a.url, d.token, load)
        expect(not missing, f"round {round_}: restarted A lacks {len(missing)} acknowledged writes: {missing[:3]}")
        report.append(load.summary())
    return f"{ROUNDS} rounds of kill -9 under {LOAD_WORKERS} concurrent writers, every acknowledged write kept: " + "; ".join(report)


def _integrity(node: Node) -> None:
    files = node.sqlite_files()
    expect(bool(files), f"no SQLite database file in {node.data_dir}")
    for path in files:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            result = db.execute("PRAGMA integrity_check").fetchall()
        expect(result == [("ok",)], f"{path.name} after kill -9: integrity_check {result[:3]}")


def kill9_under_load_sqlite(binary: str, work: Path, pid_file: Path) -> str:
    node = Node("sqlite", binary, work, pid_file)  # SQLite in its data dir, its own key file
    report = []
    try:
        node.start()
        token = json.loads(node.cli("token", "create", "--name", "load", "--output", "json"))["token"]
        fams = families(node.url, Api(node.url, token), create_web_app(Api(node.url, token), "load"))
        for round_ in range(1, ROUNDS + 1):
            load = Load(node.url, token, f"sqlite{round_}", fams)
            load.run_until_killed(node)
            _integrity(node)
            node.start()
            missing = missing_writes(node.url, token, load)
            expect(not missing, f"round {round_}: {len(missing)} acknowledged writes ({load.summary()}) lost "
                   f"across kill -9 and restart: {missing[:3]}")
            report.append(load.summary())
    finally:
        node.stop()
    return f"{ROUNDS} rounds of kill -9 under {LOAD_WORKERS} concurrent writers, every acknowledged write kept, integrity_check ok: " + "; ".join(report)


def simultaneous_start(binary: str, work: Path, pid_file: Path, databases: Databases) -> str:
    failures = []
    for attempt in range(1, SIMULTANEOUS_ATTEMPTS + 1):
        url = databases.create(f"simultaneous{attempt}")
        key = new_encryption_key()
        nodes = [Node(f"sim{attempt}{n}", binary, work, pid_file, url, key, PUBLIC_URL) for n in "ab"]
        try:
            for node in nodes:  # back to back: both bootstrap the empty database at once
                node.spawn()
            for node in nodes:
                try:
                    node.wait_listening()
                except NodeError as exc:
                    failures.append(f"attempt {attempt}: {exc}")
                    continue
                r = session().get(f"{node.url}/oauth2/default/v1/keys", timeout=10)
                if r.status_code != 200:
                    failures.append(f"attempt {attempt}: node {node.name}: {describe(r)}")
        finally:
            for node in nodes:
                node.stop()
    if failures:
        raise Check(f"{len(failures)} node(s) of {2 * SIMULTANEOUS_ATTEMPTS} did not come up: " + "; ".join(failures))
    return f"{SIMULTANEOUS_ATTEMPTS} times two nodes started together on an empty database, all came up and serve"
