"""Row generators for the cost-curve seeder: users, groups and memberships, grants with refresh
tokens, and System Log events, shaped exactly as Gatehouse writes them.

Every generator clones a *template* row that a running Gatehouse wrote itself (the template user
added with `gatehouse user add`, the grant and refresh token of one real sign-in, the System Log
events of that sign-in), changing only what differs between users: ids, names, hashes, times. So a
seeded row is what the store would have written, including columns this file does not know about
by name (they are copied through).
"""

import base64
import hashlib
import json
import random
import string
import uuid

ALNUM = string.ascii_letters + string.digits

# 40 x 25 = 1000 last names and 200 first names: at 1M users a last name is shared by ~1000
# users (so `profile.lastName eq` returns a page of a few hundred to a thousand, selective but not
# unique), at 1k users by about one.
_LAST_HEADS = [
    "Ander", "Bar", "Cal", "Dun", "El", "Fair", "Gar", "Hol", "Ing", "Jor", "Kel", "Lind",
    "Mor", "Nor", "Ol", "Pen", "Quin", "Ros", "Sal", "Tor", "Ul", "Val", "Wil", "Yor", "Zel",
    "Ash", "Brom", "Craw", "Dal", "Ever", "Fitz", "Glen", "Hart", "Ives", "Kings", "Lang",
    "Mar", "Nash", "Orm", "Pres",
]
_LAST_TAILS = [
    "son", "ley", "ton", "man", "field", "wood", "er", "berg", "ford", "well", "by", "dale",
    "ham", "ridge", "worth", "stone", "more", "land", "croft", "shaw", "wick", "brook", "hurst",
    "mont", "low",
]
LAST_NAMES = [h + t for h in _LAST_HEADS for t in _LAST_TAILS]
_FIRST_HEADS = ["Al", "Be", "Ca", "Da", "E", "Fe", "Gi", "Ha", "I", "Jo", "Ka", "Le", "Ma", "Ni",
                "O", "Pa", "Ra", "Sa", "Te", "Vi"]
_FIRST_TAILS = ["na", "ro", "lia", "ton", "mir", "lix", "ra", "den", "sha", "vin"]
FIRST_NAMES = [h + t for h in _FIRST_HEADS for t in _FIRST_TAILS]
DOMAINS = ["example.com", "example.org", "corp.example.net", "mail.example.io"]

# Groups: every user is in exactly three (besides Everyone, whose membership is implicit or
# explicit as Gatehouse does it): a department (1 of 10), a team (1 of 100), and either Staff
# (30% of users: ~300k members at 1M) or one of 7 sites.
STAFF_SHARE = 0.30
DEPARTMENTS = 10
TEAMS = 100
SITES = 7


def okta_id(prefix, rng):
    """`gatehouse_core::crypto::okta_id`: a 3-character prefix and 17 random alphanumerics."""
    return prefix + "".join(rng.choices(ALNUM, k=17))


def sha256_b64url(text):
    """`gatehouse_core::crypto::sha256_b64url`: how refresh tokens are stored."""
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def refresh_token(secret, i):
    """The i-th seeded refresh token; the runner derives the same value to present it."""
    return f"{secret}.{i}"


def user_profile(i, rng):
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    login = f"{first}.{last}.{i}@{DOMAINS[i % len(DOMAINS)]}".lower()
    return first, last, login


class Users:
    """Clones of the template user row (a dict of column -> value)."""

    def __init__(self, template, now, rng):
        self.template = template
        self.now = now
        self.rng = rng
        self.columns = list(template.keys())

    def row(self, i):
        first, last, login = user_profile(i, self.rng)
        # Created over the last three years; the password (the shared template hash) is as
        # recent as the template's, so no password-age rule expires it.
        created = self.now - self.rng.randrange(3 * 365 * 86400)
        r = dict(self.template)
        r.update(
            id=okta_id("00u", self.rng), login=login, login_lower=login.lower(), email=login,
            first_name=first, last_name=last, display_name=None, created=created,
            last_updated=created, activated=created, status_changed=created, last_login=None,
        )
        return r


def group_plan(n_users):
    """(name, description, member test) for the seeded groups."""
    groups = [("Staff", "Everyone on the payroll (about 30% of users)")]
    groups += [(f"Department {d:02d}", f"Department {d:02d}") for d in range(DEPARTMENTS)]
    groups += [(f"Team {t:03d}", f"Team {t:03d}") for t in range(TEAMS)]
    groups += [(f"Site {s}", f"Site {s}") for s in range(SITES)]
    return groups


def memberships_of(i, rng):
    """The names of the three groups user i is in."""
    third = "Staff" if rng.random() < STAFF_SHARE else f"Site {rng.randrange(SITES)}"
    return (f"Department {i % DEPARTMENTS:02d}", f"Team {rng.randrange(TEAMS):03d}", third)


def group_rows(template, now, rng):
    out = []
    for name, description in group_plan(0):
        r = dict(template)
        r.update(id=okta_id("00g", rng), name=name, description=description, created=now,
                 last_updated=now)
        out.append(r)
    return out


class Grants:
    """A grant and its live refresh token per seeded user, cloned from one real sign-in."""

    def __init__(self, grant, token, secret, now, rng):
        self.grant = grant
        self.token = token
        self.secret = secret
        self.now = now
        self.rng = rng

    def rows(self, i, user_id):
        g = dict(self.grant)
        g.update(id=okta_id("oag", self.rng), user_id=user_id, auth_time=self.now,
                 created=self.now, revoked_at=None)
        t = dict(self.token)
        t.update(token_hash=sha256_b64url(refresh_token(self.secret, i)), grant_id=g["id"],
                 created=self.now, rotated_at=None, revoked_at=None)
        return g, t


def iso_ms(ms):
    """Okta's `published`: UTC, milliseconds, `Z` (gatehouse_core::audit::okta_date_ms)."""
    import datetime as dt
    d = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Events:
    """System Log events cloned from the real ones of the template sign-in, with the template
    user's id and login swapped for a seeded user's, a new uuid and a new `published`."""

    def __init__(self, templates, tmpl_user, now_ms, days, rng):
        self.templates = templates
        self.tmpl_id = tmpl_user["id"]
        self.tmpl_login = tmpl_user["login"]
        self.tmpl_words = tmpl_user["login"].lower()
        self.tmpl_name = f'{tmpl_user["first_name"]} {tmpl_user["last_name"]}'
        self.now_ms = now_ms
        self.span_ms = days * 86_400_000
        self.rng = rng

    def row(self, k, total, user):
        uid, login, name = user
        t = self.templates[k % len(self.templates)]
        # Evenly spread, oldest first: `seq` grows with `published` as when Gatehouse writes them.
        published = self.now_ms - self.span_ms + (self.span_ms * k) // max(total, 1)
        new_uuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        swap = lambda s: None if s is None else (
            s.replace(self.tmpl_id, uid).replace(self.tmpl_login, login).replace(self.tmpl_name, name))
        body = swap(t["body"]).replace(t["uuid"], new_uuid)
        body = body.replace(json.dumps(iso_ms(t["published_ms"])), json.dumps(iso_ms(published)))
        r = dict(t)
        r.pop("seq", None)
        r.update(uuid=new_uuid, published_ms=published, actor_id=swap(t["actor_id"]),
                 actor_alternate_id=swap(t["actor_alternate_id"]),
                 target_ids=swap(t["target_ids"]),
                 search_text=t["search_text"].replace(self.tmpl_words, login.lower())
                 .replace(self.tmpl_id.lower(), uid.lower()).replace(self.tmpl_name.lower(), name.lower()),
                 body=body)
        return r


def make_rng(seed):
    return random.Random(seed)
