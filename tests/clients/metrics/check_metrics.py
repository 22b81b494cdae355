"""Scrapes gatehouse's /metrics around a scripted flow and checks what moved.

The flow: one client_credentials token, one failed and one successful password sign-in on the
hosted form, and the code exchange that follows. Checked with the real Prometheus tooling:
`promtool check metrics` accepts the exposition, and prometheus_client's parser sees each
counter move by exactly the expected amount (this server serves nobody else). Then the JSON
log: one access line per request with a request id, and none of the flow's secrets in it.

Environment: GATEHOUSE_URL, METRICS_URL, CLIENT_ID, CLIENT_SECRET, LOGIN, PASSWORD, SCOPE,
LOG_FILE (the server's stderr, written with --log-format json), PROMTOOL.
Prints one line per check and "N passed, M failed".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from prometheus_client.parser import text_string_to_metric_families

BASE = os.environ["GATEHOUSE_URL"]
METRICS = os.environ["METRICS_URL"]
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
LOGIN = os.environ["LOGIN"]
PASSWORD = os.environ["PASSWORD"]
SCOPE = os.environ["SCOPE"]
LOG_FILE = os.environ["LOG_FILE"]
PROMTOOL = os.environ.get("PROMTOOL", "promtool")
REDIRECT_URI = "https://app.example.com/cb"
TOKEN_URL = f"{BASE}/oauth2/default/v1/token"
TOKEN_ROUTE = "/oauth2/{as}/v1/token"
STATE = "metrics-state-7f3a"
NONCE = "metrics-nonce-91c2"
WRONG_PASSWORD = "not-the-password-5d1e"

results: list[tuple[bool, str]] = []


def check(ok: bool, what: str) -> None:
    results.append((ok, what))
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def scrape() -> str:
    r = requests.get(f"{METRICS}/metrics", timeout=10)
    r.raise_for_status()
    return r.text


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    out: dict[tuple[str, frozenset], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(snapshot: dict, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in snapshot.items() if n == name and want <= set(ls))


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def login_form(html: str, url: str) -> tuple[str, dict[str, str]]:
    p = FormParser()
    p.feed(html)
    if p.action is None:
        raise AssertionError(f"no sign-in form at {url}: {html[:300]!r}")
    return urljoin(url, p.action), p.fields


def flow() -> str:
    r = requests.post(
        TOKEN_URL,
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "client_credentials", "scope": SCOPE},
        timeout=20,
    )
    check(r.status_code == 200, f"client_credentials token: HTTP {r.status_code}")

    browser = requests.Session()
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": STATE,
            "nonce": NONCE,
        }
    )
    page = browser.get(f"{BASE}/oauth2/default/v1/authorize?{query}", timeout=20)
    action, fields = login_form(page.text, page.url)
    wrong = browser.post(
        action,
        data={**fields, "username": LOGIN, "password": WRONG_PASSWORD},
        allow_redirects=False,
        timeout=20,
    )
    check(wrong.status_code == 401, f"wrong password refused: HTTP {wrong.status_code}")
    action, fields = login_form(wrong.text, action)
    right = browser.post(
        action,
        data={**fields, "username": LOGIN, "password": PASSWORD},
        allow_redirects=False,
        timeout=20,
    )
    location = right.headers.get("location", "")
    check(
        right.status_code == 302 and location.startswith(REDIRECT_URI),
        f"right password redirects to the client: HTTP {right.status_code}",
    )
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    exchanged = requests.post(
        TOKEN_URL,
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        timeout=20,
    )
    check(exchanged.status_code == 200, f"code exchange: HTTP {exchanged.status_code}")
    return code


def promtool_accepts(text: str) -> None:
    p = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    problems = (p.stdout + p.stderr).strip()
    check(p.returncode == 0 and not problems, f"promtool check metrics: {problems or 'clean'}")


def main() -> int:
    before_text = scrape()
    promtool_accepts(before_text)
    before = samples(before_text)
    code = flow()
    after_text = scrape()
    promtool_accepts(after_text)
    after = samples(after_text)

    def moved(name: str, expected: float, **labels: str) -> None:
        delta = value(after, name, **labels) - value(before, name, **labels)
        shown = ",".join(f"{k}={v}" for k, v in labels.items())
        check(delta == expected, f"{name}{{{shown}}} moved by {delta:g} (expected {expected:g})")

    moved("gatehouse_tokens_issued_total", 1, grant="client_credentials", authorization_server="default")
    moved("gatehouse_tokens_issued_total", 1, grant="authorization_code", authorization_server="default")
    moved("gatehouse_sign_ins_total", 1, outcome="success")
    moved("gatehouse_sign_ins_total", 1, outcome="invalid_credentials")
    moved("gatehouse_sign_ins_total", 2)
    moved("gatehouse_lockouts_total", 0)
    moved("gatehouse_http_requests_total", 2, method="POST", route=TOKEN_ROUTE, status="200")
    moved("gatehouse_http_requests_total", 1, method="POST", route="/login", status="401")
    moved("gatehouse_http_requests_total", 1, method="POST", route="/login", status="302")
    moved("gatehouse_http_request_duration_seconds_count", 2, method="POST", route=TOKEN_ROUTE)
    check(
        value(after, "gatehouse_db_pool_connections", state="idle")
        + value(after, "gatehouse_db_pool_connections", state="in_use")
        >= 1,
        "pool connections reported (in_use + idle >= 1)",
    )
    check(
        value(after, "gatehouse_store_group_commit_batch_size_count") >= 1,
        "group-commit batch sizes recorded",
    )
    routes = {dict(ls).get("route") for (n, ls) in after if n == "gatehouse_http_requests_total"}
    check(all(r and (r.startswith("/") or r == "unmatched") for r in routes), f"route labels are templates: {sorted(routes)}")
    for secret in (STATE, NONCE, code, CLIENT_SECRET, PASSWORD):
        check(secret not in after_text, "no request value in /metrics")

    # The access log (JSON lines): one per request, with a request id, and no secrets.
    time.sleep(0.5)
    with open(LOG_FILE, encoding="utf-8", errors="replace") as f:
        log = f.read()
    access = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            check(False, f"log line is not JSON: {line[:200]}")
            continue
        if event.get("target") == "access":
            access.append(event)
    token_lines = [e for e in access if e.get("route") == TOKEN_ROUTE]
    check(len(token_lines) == 2, f"{len(token_lines)} access lines for the token route (expected 2)")
    check(
        all(e.get("request_id") and e.get("method") and e.get("status") and "latency_ms" in e for e in access),
        f"every access line has request_id, method, status, latency_ms ({len(access)} lines)",
    )
    check(len({e.get("request_id") for e in access}) == len(access), "request ids are distinct")
    for secret, what in (
        (STATE, "the state query value"),
        (NONCE, "the nonce query value"),
        (code, "the authorization code"),
        (CLIENT_SECRET, "the client secret"),
        (PASSWORD, "the password"),
        (WRONG_PASSWORD, "the wrong password"),
    ):
        check(bool(secret) and secret not in log, f"{what} is not in the log")

    passed = sum(1 for ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
