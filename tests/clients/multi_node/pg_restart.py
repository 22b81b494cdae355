"""PostgreSQL stopped (`pg_ctl stop -m fast`) for a few seconds and started again under load,
on a throw-away cluster (cluster.py), one gatehouse node on it.

What is asserted (issue 17: fail fast with 503 while the database is away, recover by itself):
  (a) every request sent while PostgreSQL is down is answered within OUTAGE_LATENCY_BOUND,
      with a 2xx or a 503 in the endpoint's error shape: Okta's {"errorCode", "errorSummary"} on
      /api/v1, an OAuth error {"error"} on /oauth2/*/v1/token;
  (b) no other 5xx (nor any other non-2xx: every request of the load is valid) before, during or
      after, and the gatehouse process neither exits nor panics;
  (c) once PostgreSQL accepts connections again, every request succeeds within RECOVERY_BOUND
      (the time to the first success is reported too);
  (d) every user creation acknowledged with a 2xx, before, during or after, is there afterwards.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from cluster import Cluster
from deployment import PUBLIC_URL, create_service_app, create_user
from idp import SCOPE_CC, Api, Client, OAuth, describe, expect, session
from nodes import Node, new_encryption_key

TOKEN_WORKERS = 2  # client_credentials tokens
USER_WORKERS = 3  # /api/v1 user creations
REQUEST_TIMEOUT = 15.0  # client side: past the pool's 10 s acquire timeout, to measure a hang, not cut it
PRE_OUTAGE_ACKS = 20  # user creations acknowledged before PostgreSQL is stopped
PRE_OUTAGE_MAX = 3.0
# PostgreSQL down, from the end of `pg_ctl stop` to `pg_ctl start`: longer than the bound below,
# so a request that merely waits for PostgreSQL to come back fails it.
OUTAGE_SECONDS = 6.0
# Issue 17, fail fast: each database call gives up after the pool's 2 s acquire timeout, and a
# request makes at most two before it answers 503 (a rate-limit or throttle read first, whose
# unreachable-database error ends the request at once).
OUTAGE_LATENCY_BOUND = 4.5
RECOVERY_BOUND = 5.0  # from `pg_ctl start` returning (accepting connections) to every request succeeding
RECOVERY_WAIT = 15.0  # how long the load waits for a success of each kind after the start
STEADY_SECONDS = 2.0  # load kept on after that, to find stale pooled connections
FAILURE_PAUSE = 0.1  # a worker's pause after a failed request
EXAMPLES = 3


@dataclass
class Sent:
    kind: str  # "token" or "user"
    start: float
    end: float
    status: int | None  # None: no answer (timeout, connection error)
    detail: str  # the response (or the exception) when not 2xx
    shaped: bool  # a 503 in the endpoint's error shape

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def __str__(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"{self.kind} {what} after {self.end - self.start:.2f}s: {self.detail[:160]}"


def _shaped(kind: str, r: requests.Response) -> bool:
    try:
        body = r.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if kind == "user":
        return isinstance(body.get("errorCode"), str) and isinstance(body.get("errorSummary"), str)
    return isinstance(body.get("error"), str)


class Load:
    def __init__(self, url: str, token: str, service: Client) -> None:
        self.url = url
        self.api_headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}
        self.service = service
        self.sent: list[Sent] = []
        self.users: list[tuple[str, str]] = []  # (id, login) acknowledged
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self._logins = itertools.count()

    def _send(self, kind: str, http: requests.Session) -> None:
        login = ""
        start = time.monotonic()
        try:
            if kind == "token":
                r = http.post(
                    f"{self.url}/oauth2/default/v1/token",
                    data={"grant_type": "client_credentials", "scope": SCOPE_CC},
                    auth=(self.service.client_id, self.service.client_secret), timeout=REQUEST_TIMEOUT,
                )
            else:
                login = f"pg-restart-{next(self._logins)}@multi-node.test"
                body = {"profile": {"firstName": "Pg", "lastName": "Restart", "email": login, "login": login}}
                r = http.post(
                    f"{self.url}/api/v1/users?activate=false", json=body, headers=self.api_headers,
                    timeout=REQUEST_TIMEOUT, allow_redirects=False,
                )
        except requests.RequestException as exc:
            sent = Sent(kind, start, time.monotonic(), None, f"{type(exc).__name__}: {exc}", False)
        else:
            end = time.monotonic()
            ok = 200 <= r.status_code < 300
            sent = Sent(kind, start, end, r.status_code, "" if ok else describe(r), r.status_code == 503 and _shaped(kind, r))
            if ok and kind == "user":
                try:
                    user_id = r.json()["id"]
                except (ValueError, KeyError, TypeError):  # a 2xx that acknowledges nothing
                    sent.status, sent.detail = None, f"2xx without a user id: {describe(r)}"
                else:
                    with self.lock:
                        self.users.append((user_id, login))
        with self.lock:
            self.sent.append(sent)
        if not sent.ok:
            time.sleep(FAILURE_PAUSE)

    def worker(self, kind: str) -> None:
        http = session()
        while not self.stop.is_set():
            self._send(kind, http)

    def succeeded_since(self, kind: str, t: float) -> bool:
        with self.lock:
            return any(s.kind == kind and s.ok and s.start >= t for s in self.sent)


def _wait(until, bound: float) -> None:
    deadline = time.monotonic() + bound
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)


def _missing_users(url: str, token: str, users: list[tuple[str, str]]) -> list[str]:
    api = Api(url, token)

    def check(entry: tuple[str, str]) -> str | None:
        user_id, login = entry
        r = api.call("GET", f"/api/v1/users/{user_id}")
        if r.status_code != 200:
            return f"user {user_id} ({login}): {describe(r)}"
        got = r.json().get("profile", {}).get("login")
        return None if got == login else f"user {user_id}: login {got!r}, want {login!r}"

    with ThreadPoolExecutor(4) as pool:
        return [m for m in pool.map(check, users) if m]


def postgres_restart_under_load(binary: str, work: Path, pid_file: Path) -> str:
    cluster = Cluster(work, "restart")
    node: Node | None = None
    try:
        url = cluster.create()
        node = Node("pgrestart", binary, work, pid_file, url, new_encryption_key(), PUBLIC_URL)
        node.start()
        token = json.loads(node.cli("token", "create", "--name", "pg-restart", "--output", "json"))["token"]
        api = Api(node.url, token)
        api.ok("POST", "/api/v1/authorizationServers/default/scopes", {"name": SCOPE_CC})
        service = create_service_app(api, "pg-restart service")
        OAuth(node.url).token_ok(service, grant_type="client_credentials", scope=SCOPE_CC)  # warm-up
        create_user(api)
        return _under_load(cluster, node, token, service)
    finally:
        if node is not None:
            node.stop()
        cluster.destroy(keep_log=work / "pgrestart-postgres.log")


def _under_load(cluster: Cluster, node: Node, token: str, service: Client) -> str:
    load = Load(node.url, token, service)
    kinds = ["token"] * TOKEN_WORKERS + ["user"] * USER_WORKERS
    pool = ThreadPoolExecutor(len(kinds))
    try:
        for kind in kinds:
            pool.submit(load.worker, kind)
        _wait(lambda: len(load.users) >= PRE_OUTAGE_ACKS, PRE_OUTAGE_MAX)
        t_stop = time.monotonic()
        cluster.stop("fast")
        t_down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        t_start = time.monotonic()
        cluster.start()
        t_ready = time.monotonic()
        _wait(lambda: all(load.succeeded_since(k, t_ready) for k in ("token", "user")), RECOVERY_WAIT)
        time.sleep(STEADY_SECONDS)
    finally:
        load.stop.set()
        pool.shutdown(wait=True)  # each request is bounded by REQUEST_TIMEOUT
    t_end = time.monotonic()
    return _verdict(load, node, token, t_stop, t_down, t_start, t_ready, t_end)


def _verdict(load: Load, node: Node, token: str, t_stop: float, t_down: float, t_start: float, t_ready: float, t_end: float) -> str:
    sent = sorted(load.sent, key=lambda s: s.start)
    during = [s for s in sent if s.start < t_ready and s.end > t_stop]
    after = [s for s in sent if s.end > t_ready]
    max_during = max((s.end - s.start for s in during), default=0.0)
    failures: list[str] = []

    # (a) fail fast, in the endpoint's error shape
    sent_while_down = [s for s in sent if t_down <= s.start < t_start]
    if not sent_while_down:
        failures.append("(a) no request was started while PostgreSQL was down: every client was stuck in an earlier one")
    slow = [s for s in during if s.end - s.start > OUTAGE_LATENCY_BOUND]
    if slow:
        failures.append(f"(a) {len(slow)} of {len(during)} requests during the outage took over {OUTAGE_LATENCY_BOUND}s "
                        f"(max {max_during:.2f}s), e.g. {'; '.join(map(str, slow[:EXAMPLES]))}")
    unshaped = [s for s in during if not s.ok and not (s.status == 503 and s.shaped)]
    if unshaped:
        failures.append(f"(a) {len(unshaped)} of {len(during)} requests during the outage answered other than 2xx or a "
                        f"shaped 503, e.g. {'; '.join(map(str, unshaped[:EXAMPLES]))}")
    # (b) nothing but 2xx and 503 anywhere (the load's requests are all valid), no crash
    other = [s for s in sent if not s.ok and s.status != 503]
    statuses = sorted({s.status if s.status is not None else "no answer" for s in other}, key=str)
    if other:
        failures.append(f"(b) {len(other)} of {len(sent)} requests answered neither 2xx nor 503 ({statuses}), e.g. "
                        f"{'; '.join(map(str, other[:EXAMPLES]))}")
    if not node.alive():
        failures.append(f"(b) the gatehouse process exited: {node.tail()}")
    panics = [line for line in node.output if "panicked" in line]
    if panics:
        failures.append(f"(b) the gatehouse process panicked: {panics[:EXAMPLES]}")
    # (c) recovery by itself: the first 2xx answered once PostgreSQL is back, to a request sent
    # during or after the outage
    first_ok = {}
    for kind in ("token", "user"):
        ends = [s.end for s in sent if s.kind == kind and s.ok and s.start >= t_stop and s.end >= t_ready]
        first_ok[kind] = min(ends) - t_ready if ends else None
    failed_after = [s for s in after if not s.ok]
    settled = max((s.end for s in failed_after), default=t_ready) - t_ready
    never = [k for k, v in first_ok.items() if v is None]
    if never:
        failures.append(f"(c) no successful {'/'.join(never)} request within {RECOVERY_WAIT}s after PostgreSQL was back")
    if settled > RECOVERY_BOUND:
        failures.append(f"(c) requests still failed {settled:.2f}s after PostgreSQL was back (bound {RECOVERY_BOUND}s), "
                        f"e.g. {'; '.join(map(str, failed_after[-EXAMPLES:]))}")
    # (d) every acknowledged write kept
    missing = _missing_users(node.url, token, load.users) if node.alive() else ["(node down, not checked)"]
    if missing:
        failures.append(f"(d) {len(missing)} of {len(load.users)} acknowledged users missing: {missing[:EXAMPLES]}")

    def fmt(v: float | None) -> str:
        return "never" if v is None else f"{v:.2f}s"

    during_counts: dict[str, int] = {}
    for s in during:
        key = f"{s.kind} {s.status if s.status is not None else 'no answer'}"
        during_counts[key] = during_counts.get(key, 0) + 1
    summary = (
        f"{len(sent)} requests by {TOKEN_WORKERS + USER_WORKERS} clients over {t_end - (sent[0].start if sent else t_stop):.1f}s; "
        f"pg_ctl stop -m fast took {t_down - t_stop:.2f}s, down {t_start - t_down:.1f}s, pg_ctl start took {t_ready - t_start:.2f}s; "
        f"during the outage {len(during)} requests ({len(sent_while_down)} sent while it was down) {dict(sorted(during_counts.items()))}, max latency {max_during:.2f}s; "
        f"first success after PostgreSQL was back: token {fmt(first_ok['token'])}, user {fmt(first_ok['user'])}; "
        f"last failure {settled:.2f}s after; {len(load.users)} users acknowledged, {len(load.users) - len(missing) if node.alive() else '?'} found"
    )
    print(f"      pg restart: {summary}", flush=True)
    expect(not failures, " | ".join(failures))
    return summary
