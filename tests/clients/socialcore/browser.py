"""Drives gatehouse's hosted sign-in page the way a browser does: cookies, redirects, form posts.

Redirects are followed only while they stay on the IdP. The first redirect that leaves it (to the
relying party's redirect_uri) ends navigation and is returned as a `Departure`, because the relying
party (netbox.test) does not exist: its callback is handed to social-core instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 10


class SignInError(AssertionError):
    pass


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]  # what a browser would submit, before the user types anything
    input_names: set[str]


@dataclass
class Departure:
    """The IdP sent the browser off-site (normally to redirect_uri with code or error)."""

    url: str
    status: int


@dataclass
class Page:
    """A response the IdP rendered itself."""

    url: str
    status: int
    html: str
    forms: list[Form] = field(default_factory=list)
    text: str = ""

    def login_form(self) -> Form:
        for form in self.forms:
            if {"username", "password"} <= form.input_names:
                return form
        raise SignInError(f"no sign-in form on {self.describe()}")

    def describe(self) -> str:
        return f"HTTP {self.status} {self.url} text={self.text[:300]!r}"


class _PageParser(HTMLParser):
    """Collects forms (with the values a browser would submit) and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._form: Form | None = None
        self._submitter_chosen = False
        self._invisible_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag in ("script", "style", "template", "title"):
            self._invisible_depth += 1
        elif tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), {}, set())
            self._submitter_chosen = False
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None and a.get("name"):
            self._add_control(tag, a)

    def _add_control(self, tag: str, a: dict[str, str]) -> None:
        form, name = self._form, a["name"]
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        form.input_names.add(name)
        if kind in ("submit", "image"):
            # A browser submits only the button that was clicked: take the first one.
            if not self._submitter_chosen:
                form.fields[name] = a.get("value", "")
                self._submitter_chosen = True
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                form.fields[name] = a.get("value", "on")
        elif kind not in ("button", "reset", "file"):
            form.fields[name] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "title"):
            self._invisible_depth = max(0, self._invisible_depth - 1)
        elif tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if not self._invisible_depth:
            self.text.append(data)


def parse_page(url: str, status: int, html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    text = re.sub(r"\s+", " ", " ".join(parser.text)).strip()
    return Page(url, status, html, parser.forms, text)


class Browser:
    def __init__(self, idp_origin: str, timeout: float = 10.0) -> None:
        self.idp_origin = idp_origin
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies or netrc: talk to 127.0.0.1 directly

    def _on_idp(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.idp_origin)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def navigate(self, method: str, url: str, data: dict[str, str] | None = None) -> Page | Departure:
        for _ in range(MAX_REDIRECTS):
            response = self.http.request(method, url, data=data, allow_redirects=False, timeout=self.timeout)
            if response.status_code not in REDIRECT_STATUSES:
                return parse_page(url, response.status_code, response.text)
            if "Location" not in response.headers:
                raise SignInError(f"HTTP {response.status_code} without Location from {method} {url}")
            target = urljoin(url, response.headers["Location"])
            if not self._on_idp(target):
                return Departure(target, response.status_code)
            if response.status_code not in (307, 308):  # 301/302/303: the browser switches to GET
                method, data = "GET", None
            url = target
        raise SignInError(f"more than {MAX_REDIRECTS} redirects starting at {url}")

    def open(self, url: str) -> Page | Departure:
        return self.navigate("GET", url)

    def submit_login(self, page: Page, username: str, password: str) -> Page | Departure:
        """Fill in and submit the sign-in form, carrying every other field (hidden inputs) back."""
        form = page.login_form()
        data = {**form.fields, "username": username, "password": password}
        return self.navigate(form.method.upper(), urljoin(page.url, form.action or page.url), data)

    def sign_in(self, authorize_url: str, username: str, password: str) -> Departure:
        """Open the authorization URL, sign in, and return where the IdP sends the browser."""
        page = self.open(authorize_url)
        if isinstance(page, Departure):
            raise SignInError(f"authorize left the IdP before sign-in: {page.url}")
        result = self.submit_login(page, username, password)
        if isinstance(result, Page):
            raise SignInError(
                f"sign-in as {username} did not redirect to the client: {result.describe()}; "
                f"cookies held: {self.describe_cookies()}"
            )
        return result

    def describe_cookies(self) -> str:
        return (
            ", ".join(f"{c.name}(domain={c.domain!r}, path={c.path}, secure={c.secure})" for c in self.http.cookies)
            or "none"
        )
