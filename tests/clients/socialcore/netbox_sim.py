"""A NetBox stand-in for social-core: settings, an in-memory database and one visitor's session.

On a real NetBox, social_django supplies the strategy (settings, request, session) and the storage
(Django models). Here both are plain Python, so that everything between NetBox and gatehouse is
social-core's own code: the backend classes, `do_auth` / `do_complete` and the pipeline.

Works with social-auth-core 5.1.0 (pinned by NetBox 4.7) and 7.x; the few API differences are
handled where they occur.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urljoin, urlsplit

import social_core
from social_core.actions import do_auth, do_complete
from social_core.storage import (
    AssociationMixin,
    BaseStorage,
    CodeMixin,
    NonceMixin,
    PartialMixin,
    UserMixin,
)
from social_core.strategy import BaseStrategy

SOCIAL_CORE_VERSION = social_core.__version__
SOCIAL_CORE_MAJOR = int(SOCIAL_CORE_VERSION.split(".")[0])

NETBOX_ORIGIN = "http://netbox.test"
NETBOX_HOST = "netbox.test"

# NetBox's SOCIAL_AUTH_PIPELINE (netbox/netbox/settings.py) minus
# netbox.authentication.user_default_groups_handler, which needs NetBox's own models.
NETBOX_PIPELINE = [
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
]

NETBOX_BACKENDS = [
    "social_core.backends.okta_openidconnect.OktaOpenIdConnect",
    "social_core.backends.open_id_connect.OpenIdConnectAuth",
]

# Settings NetBox always has; each scenario adds its REMOTE_AUTH backend's KEY/SECRET/URL.
NETBOX_SETTINGS = {
    "AUTHENTICATION_BACKENDS": NETBOX_BACKENDS,
    "SOCIAL_AUTH_PIPELINE": NETBOX_PIPELINE,
    "LOGIN_URL": "/login/",
    "LOGIN_REDIRECT_URL": "/",
}


def complete_path(backend_name: str) -> str:
    """social_django's `social:complete` URL, mounted by NetBox under /oauth/."""
    return f"/oauth/complete/{backend_name}/"


def redirect_uri(backend_name: str) -> str:
    return NETBOX_ORIGIN + complete_path(backend_name)


# --------------------------------------------------------------------------------------------
# Storage: what social_django keeps in its tables, held in class attributes (one site at a time).
# --------------------------------------------------------------------------------------------


class IntegrityError(Exception):
    """Stands in for a unique-constraint violation in social_django's tables."""


class User:
    """The attributes of django.contrib.auth's User that social-core's pipeline reads and writes."""

    _ids = itertools.count(1)

    def __init__(self, username: str, email: str = "", **fields: Any) -> None:
        self.id = self.pk = next(self._ids)
        self.username = username
        self.email = email or ""
        self.first_name = ""
        self.last_name = ""
        self.is_active = True
        self.is_authenticated = True
        for name, value in fields.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"User(id={self.id}, username={self.username!r})"


class UserSocialAuth(UserMixin):
    users: ClassVar[dict[int, User]] = {}
    entries: ClassVar[list[UserSocialAuth]] = []
    _ids = itertools.count(1)

    def __init__(self, user: User, uid: str, provider: str, id_key: str = "") -> None:
        self.id = next(self._ids)
        self.user = user
        self.uid = uid
        self.provider = provider
        self.id_key = id_key
        self.extra_data: dict[str, Any] = {}

    def save(self) -> None:
        pass  # the objects are the database; there is nothing to flush

    def __repr__(self) -> str:
        return f"UserSocialAuth(provider={self.provider!r}, uid={self.uid!r}, user={self.user!r})"

    @classmethod
    def _check_unique(cls, provider: str, uid: str, exclude: UserSocialAuth | None = None) -> None:
        # social_django: unique_together = ("provider", "uid")
        for entry in cls.entries:
            if entry is not exclude and entry.provider == provider and entry.uid == uid:
                raise IntegrityError(f"duplicate social auth {provider}/{uid}")

    @classmethod
    def changed(cls, user: User) -> None:
        pass

    @classmethod
    def get_username(cls, user: User) -> str:
        return user.username

    @classmethod
    def user_model(cls) -> type[User]:
        return User

    @classmethod
    def username_max_length(cls) -> int:
        return 150  # Django's User.username max_length

    @classmethod
    def user_exists(cls, *args: Any, **kwargs: Any) -> bool:
        return any(all(getattr(user, name) == value for name, value in kwargs.items()) for user in cls.users.values())

    @classmethod
    def create_user(cls, *args: Any, **kwargs: Any) -> User:
        user = User(*args, **kwargs)
        cls.users[user.id] = user
        return user

    @classmethod
    def get_user(cls, pk: int) -> User | None:
        return cls.users.get(pk)

    @classmethod
    def get_users_by_email(cls, email: str) -> list[User]:
        return [user for user in cls.users.values() if user.email.lower() == email.lower()]

    @classmethod
    def get_social_auth(cls, provider: str, uid: str, id_key: str | None = None):
        # id_key exists from 7.x on; None means "any key", as in social_django.
        for entry in cls.entries:
            if (entry.provider, entry.uid) == (provider, str(uid)) and id_key in (None, entry.id_key):
                return entry
        return None

    @classmethod
    def get_social_auth_by_extra_data(cls, provider: str, key: str, value: str, id_key: str = ""):
        matches = [entry for entry in cls.entries if entry.provider == provider and entry.extra_data.get(key) == value]
        return matches[0] if len(matches) == 1 else None

    @classmethod
    def get_social_auth_for_user(cls, user: User, provider: str | None = None, id: int | None = None):
        return [
            entry
            for entry in cls.entries
            if entry.user is user
            and (provider is None or entry.provider == provider)
            and (id is None or entry.id == id)
        ]

    @classmethod
    def create_social_auth(cls, user: User, uid: str, provider: str, id_key: str = ""):
        cls._check_unique(provider, str(uid))
        entry = cls(user, str(uid), provider, id_key)
        cls.entries.append(entry)
        return entry

    @classmethod
    def migrate_social_auth(cls, social, uid: str, id_key: str, *, evidence_key: str | None = None):
        cls._check_unique(social.provider, str(uid), exclude=social)
        social.uid, social.id_key = str(uid), id_key
        return social

    @classmethod
    def allowed_to_disconnect(cls, user: User, backend_name: str, association_id=None) -> bool:
        return True

    @classmethod
    def disconnect(cls, entry) -> None:
        cls.entries.remove(entry)


class Nonce(NonceMixin):
    entries: ClassVar[list[Nonce]] = []

    def __init__(self, server_url: str, timestamp: int, salt: str) -> None:
        self.server_url, self.timestamp, self.salt = server_url, timestamp, salt

    def _key(self) -> tuple:
        return (self.server_url, self.timestamp, self.salt)

    @classmethod
    def use(cls, server_url: str, timestamp, salt: str) -> bool:
        """Record a one-use value; False if it was already recorded (get_or_create semantics)."""
        nonce = cls(server_url, timestamp, salt)
        if any(entry._key() == nonce._key() for entry in cls.entries):
            return False
        cls.entries.append(nonce)
        return True

    @classmethod
    def get(cls, server_url: str, salt: str):
        for entry in cls.entries:
            if entry.server_url == server_url and entry.salt == salt:
                return entry
        return None

    @classmethod
    def delete(cls, nonce) -> None:
        cls.entries.remove(nonce)

    @classmethod
    def consume(cls, server_url: str, timestamp: int, salt: str) -> bool:
        for entry in cls.entries:
            if entry._key() == (server_url, timestamp, salt):
                cls.entries.remove(entry)
                return True
        return False


class Association(AssociationMixin):
    """OpenID Connect backends keep their `nonce` here (handle=nonce, assoc_type=state)."""

    entries: ClassVar[list[Association]] = []
    _ids = itertools.count(1)

    def __init__(self, server_url: str, handle: str) -> None:
        self.id = next(self._ids)
        self.server_url = server_url
        self.handle = handle

    @classmethod
    def store(cls, server_url: str, association) -> None:
        # update-or-create on (server_url, handle), secret base64-encoded, as social_django does
        matches = cls.get(server_url=server_url, handle=association.handle)
        assoc = matches[0] if matches else cls(server_url, association.handle)
        assoc.secret = base64.encodebytes(association.secret).decode()
        assoc.issued = association.issued
        assoc.lifetime = association.lifetime
        assoc.assoc_type = association.assoc_type
        if not matches:
            cls.entries.append(assoc)

    @classmethod
    def get(cls, server_url: str | None = None, handle: str | None = None):
        return [
            entry
            for entry in cls.entries
            if (server_url is None or entry.server_url == server_url) and (handle is None or entry.handle == handle)
        ]

    @classmethod
    def remove(cls, ids_to_delete) -> None:
        doomed = set(ids_to_delete)
        cls.entries[:] = [entry for entry in cls.entries if entry.id not in doomed]


class Code(CodeMixin):
    entries: ClassVar[list[Code]] = []

    def save(self) -> None:
        if self not in self.entries:
            self.entries.append(self)

    @classmethod
    def get_code(cls, code: str):
        return next((entry for entry in cls.entries if entry.code == code), None)


class Partial(PartialMixin):
    entries: ClassVar[dict[str, Partial]] = {}

    def save(self) -> None:
        self.entries[self.token] = self

    @classmethod
    def load(cls, token: str):
        return cls.entries.get(token)

    @classmethod
    def destroy(cls, token: str) -> None:
        cls.entries.pop(token, None)


class MemoryStorage(BaseStorage):
    user = UserSocialAuth
    nonce = Nonce
    association = Association
    code = Code
    partial = Partial

    @classmethod
    def is_integrity_error(cls, exception) -> bool:
        return isinstance(exception, IntegrityError)

    @classmethod
    def reset(cls) -> None:
        """Empty every table: a freshly installed NetBox."""
        UserSocialAuth.users.clear()
        UserSocialAuth.entries.clear()
        Nonce.entries.clear()
        Association.entries.clear()
        Code.entries.clear()
        Partial.entries.clear()


# --------------------------------------------------------------------------------------------
# Strategy: one HTTP request to NetBox, with the visitor's session.
# --------------------------------------------------------------------------------------------


@dataclass
class Redirect:
    url: str


@dataclass
class Html:
    content: str


class NetBoxStrategy(BaseStrategy):
    def __init__(self, settings: dict[str, Any], session: dict[str, str], path: str, data: dict[str, str]) -> None:
        super().__init__(MemoryStorage)
        self._settings = settings
        self._session = session
        self._path = path
        self._data = dict(data)

    def get_setting(self, name: str):
        return self._settings[name]  # KeyError makes BaseStrategy.setting() try the next name

    def redirect(self, url: str) -> Redirect:
        return Redirect(url)

    def html(self, content: str) -> Html:
        return Html(content)

    def get_request_data(self, merge: bool = True) -> dict[str, str]:
        return dict(self._data)

    if not hasattr(BaseStrategy, "get_request_data"):
        request_data = get_request_data  # 5.1 names this hook request_data

    def request_host(self) -> str:
        return NETBOX_HOST

    def request_is_secure(self) -> bool:
        return False

    def request_path(self) -> str:
        return self._path

    def request_port(self) -> int:
        return 80

    def request_get(self) -> dict[str, str]:
        return dict(self._data)

    def request_post(self) -> dict[str, str]:
        return {}

    def build_absolute_uri(self, path: str | None = None) -> str:
        return urljoin(NETBOX_ORIGIN + self._path, path or "")

    # Django's default session serializer is JSON; round-tripping through it catches values
    # social-core could not keep in a real NetBox session.
    def session_get(self, name: str, default=None):
        if name not in self._session:
            return default
        return json.loads(self._session[name])

    def session_set(self, name: str, value) -> None:
        self._session[name] = json.dumps(value)

    def session_pop(self, name: str):
        raw = self._session.pop(name, None)
        return None if raw is None else json.loads(raw)


class LoginNotCompleted(AssertionError):
    pass


class NetBoxSite:
    """One NetBox deployment (settings + empty user database) and one visitor's browser session.

    Creating a site empties the shared in-memory storage, so use one site at a time.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        MemoryStorage.reset()
        self.settings = {**NETBOX_SETTINGS, **settings}
        self.session: dict[str, str] = {}

    def _backend(self, backend_name: str, path: str, data: dict[str, str]):
        # social_django's psa decorator: load_strategy + load_backend(redirect_uri=complete URL)
        strategy = NetBoxStrategy(self.settings, self.session, path, data)
        return strategy.get_backend(backend_name, redirect_uri=complete_path(backend_name))

    def begin(self, backend_name: str) -> str:
        """POST /oauth/login/<backend>/ → the authorization URL the browser is redirected to."""
        backend = self._backend(backend_name, f"/oauth/login/{backend_name}/", {})
        response = do_auth(backend)
        if not isinstance(response, Redirect):
            raise LoginNotCompleted(f"do_auth did not redirect to the IdP: {response!r}")
        return response.url

    def complete(self, backend_name: str, callback_url: str) -> User:
        """GET /oauth/complete/<backend>/?… → the user NetBox logs in (exceptions propagate)."""
        parts = urlsplit(callback_url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        backend = self._backend(backend_name, parts.path, query)
        self.last_backend = backend  # its id_token: the claims social-core validated
        logged_in: list[User] = []
        response = do_complete(backend, lambda _backend, user, _social: logged_in.append(user), user=None)
        if not logged_in:
            raise LoginNotCompleted(f"social-core completed without logging a user in: {response!r}")
        return logged_in[0]
