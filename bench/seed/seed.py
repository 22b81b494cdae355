#!/usr/bin/env python3
"""Fills a Gatehouse database for the cost curve (issue 21): N users with realistic profiles and
one shared password, group memberships (three per user, one group with ~30% of users), one live
refresh token (and its grant) per user up to --tokens, and --events System Log events spread over
--event-days days.

The database must already hold Gatehouse's schema and a *template*: a user added with
`gatehouse user add` (its argon2id hash becomes everyone's password), that user's grant and
refresh token from one real sign-in to --client-id, a group added with `gatehouse group add`, and
the System Log events of that sign-in. bench/cost.mjs prepares all of that through Gatehouse
itself, then runs this; every seeded row is a clone of a row Gatehouse wrote.

    seed.py --db sqlite:/path/gatehouse.db | postgres://… --template-login L --client-id C
            --token-secret S --users N [--tokens T] [--events E] [--event-days D] [--info FILE]

Prints progress and rates on stderr, and (with --info) writes a JSON file the runner reads: the
sizes after each phase, rates, and sample values to query (the big group's id, ids near the end).
"""

import argparse
import json
import sys
import time

from seed_db import open_db
from seed_rows import (Events, Grants, Users, group_rows, make_rng, memberships_of,
                       LAST_NAMES)


def log(*a):
    print("[seed]", *a, file=sys.stderr, flush=True)


class Progress:
    def __init__(self, what, total):
        self.what, self.total, self.n = what, total, 0
        self.t0 = self.last = time.monotonic()
        self.cpu0 = time.process_time()

    def tick(self, k=1):
        self.n += k
        now = time.monotonic()
        if now - self.last >= 2:
            self.last = now
            log(f"{self.what}: {self.n}/{self.total} ({self.n / (now - self.t0):,.0f}/s)")

    def done(self):
        dt = max(time.monotonic() - self.t0, 1e-9)
        cpu = max(time.process_time() - self.cpu0, 1e-9)
        rate = self.n / dt
        # Per CPU second of this process too: on a shared machine the wall-clock rate is noise.
        log(f"{self.what}: {self.n} in {dt:.1f} s ({rate:,.0f}/s; {self.n / cpu:,.0f} per CPU s)")
        return {"rows": self.n, "seconds": round(dt, 2), "per_s": round(rate),
                "cpu_s": round(cpu, 2), "per_cpu_s": round(self.n / cpu)}


def counted(rows, progress):
    for r in rows:
        progress.tick()
        yield r


def one(db, sql, *args, what):
    rows = db.query(sql, args)
    if not rows:
        raise SystemExit(f"seed: no {what} in the database (did the template step run?)")
    return rows[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--template-login", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--token-secret", required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--tokens", type=int, default=-1, help="default: one per user")
    p.add_argument("--events", type=int, default=0)
    p.add_argument("--event-days", type=int, default=120)
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--info")
    a = p.parse_args()
    tokens = a.users if a.tokens < 0 else min(a.tokens, a.users)
    rng = make_rng(a.seed)
    db = open_db(a.db)
    now = int(time.time())
    info = {"users": a.users, "tokens": tokens, "events": a.events, "rates": {}, "sizes": {}}
    info["sizes"]["base"] = db.size_bytes()

    tmpl_user = one(db, "SELECT * FROM users WHERE login_lower = %s", a.template_login.lower(),
                    what="template user")
    tmpl_group = one(db, "SELECT * FROM groups WHERE group_type = %s ORDER BY created LIMIT 1",
                     "OKTA_GROUP", what="template group (gatehouse group add)")
    tmpl_grant = one(db, "SELECT * FROM grants WHERE user_id = %s AND client_id = %s LIMIT 1",
                     tmpl_user["id"], a.client_id, what="template grant (one sign-in)")
    tmpl_token = one(db, "SELECT * FROM refresh_tokens WHERE grant_id = %s LIMIT 1",
                     tmpl_grant["id"], what="template refresh token")
    # The sign-in's events: the user's (authorize, SSO, session) and the app's token grants.
    tmpl_events = db.query(
        "SELECT * FROM system_log WHERE (actor_id = %s OR actor_id = %s) "
        "AND event_type NOT LIKE 'system.%%' ORDER BY seq", (tmpl_user["id"], a.client_id))
    if not tmpl_events:
        raise SystemExit("seed: no System Log events of the template user")
    everyone = one(db, "SELECT id FROM groups WHERE name = %s", "Everyone", what="Everyone")["id"]
    # Whether Gatehouse keeps Everyone's membership as rows: as the template user has it.
    everyone_rows = bool(db.query(
        "SELECT 1 AS x FROM group_members WHERE group_id = %s AND user_id = %s",
        (everyone, tmpl_user["id"])))

    # Users. Their ids are kept (1M x 20 bytes) for the memberships, grants and events.
    users = Users(tmpl_user, now, rng)
    ids, logins, names = [], [], []

    def user_rows():
        for i in range(a.users):
            r = users.row(i)
            ids.append(r["id"])
            logins.append(r["login"])
            names.append(f'{r["first_name"]} {r["last_name"]}')
            yield tuple(r[c] for c in users.columns)

    prog = Progress("users", a.users)
    db.insert("users", users.columns, counted(user_rows(), prog))
    info["rates"]["users"] = prog.done()

    groups = group_rows(tmpl_group, now, rng)
    gcols = list(tmpl_group.keys())
    db.insert("groups", gcols, (tuple(g[c] for c in gcols) for g in groups))
    gid = {g["name"]: g["id"] for g in groups}

    staff = []

    def member_rows():
        for i, uid in enumerate(ids):
            for name in memberships_of(i, rng):
                if name == "Staff":
                    staff.append(uid)
                yield (gid[name], uid)
            if everyone_rows:
                yield (everyone, uid)

    prog = Progress("group memberships", a.users * (4 if everyone_rows else 3))
    db.insert("group_members", ["group_id", "user_id"], counted(member_rows(), prog))
    info["rates"]["memberships"] = prog.done()
    info["sizes"]["users"] = db.size_bytes()

    # One grant and live refresh token per user, to the template's app and server.
    grants = Grants(tmpl_grant, tmpl_token, a.token_secret, now, rng)
    pairs = [None] * tokens
    gcols2, tcols = list(tmpl_grant.keys()), list(tmpl_token.keys())

    def grant_rows():
        for i in range(tokens):
            g, t = grants.rows(i, ids[i])
            pairs[i] = tuple(t[c] for c in tcols)
            yield tuple(g[c] for c in gcols2)

    prog = Progress("grants", tokens)
    db.insert("grants", gcols2, counted(grant_rows(), prog))
    info["rates"]["grants"] = prog.done()
    prog = Progress("refresh tokens", tokens)
    db.insert("refresh_tokens", tcols,
              counted(iter(pairs), prog))
    info["rates"]["refresh_tokens"] = prog.done()
    del pairs
    info["sizes"]["tokens"] = db.size_bytes()

    # System Log events, oldest first, each by a random seeded user.
    if a.events:
        ev = Events(tmpl_events, tmpl_user, now * 1000, a.event_days, rng)
        ecols = [c for c in tmpl_events[0].keys() if c != "seq"]

        def event_rows():
            n = len(ids)
            for k in range(a.events):
                j = rng.randrange(n)
                r = ev.row(k, a.events, (ids[j], logins[j], names[j]))
                yield tuple(r[c] for c in ecols)

        last_seq = db.query("SELECT MAX(seq) AS m FROM system_log")[0]["m"] or 0
        prog = Progress("System Log events", a.events)
        db.insert("system_log", ecols, counted(event_rows(), prog))
        info["rates"]["events"] = prog.done()
        # Since 0033 an event's target ids are rows too, written with it.
        if db.has_table("system_log_targets"):
            t0 = time.monotonic()
            db.add_log_targets(last_seq)
            info["rates"]["event_targets_s"] = round(time.monotonic() - t0, 2)
            log(f"event targets in {info['rates']['event_targets_s']} s")
        info["event_types"] = sorted({e["event_type"] for e in tmpl_events})
    info["sizes"]["events"] = db.size_bytes()

    t0 = time.monotonic()
    db.finish()
    info["rates"]["analyze_s"] = round(time.monotonic() - t0, 2)
    info["sizes"]["final"] = db.size_bytes()

    # Sample values for the runner's queries.
    staff.sort()
    sorted_ids = sorted(ids)
    info["samples"] = {
        "logins": [logins[k] for k in make_rng(7).sample(range(len(logins)), min(200, len(logins)))],
        "last_names": LAST_NAMES,
        "ids": make_rng(8).sample(ids, min(200, len(ids))),
        "users_last_after": sorted_ids[-201] if len(sorted_ids) > 200 else None,
        "groups": gid,
        "staff_members": len(staff),
        "staff_last_after": staff[-1001] if len(staff) > 1000 else None,
        "everyone": everyone,
        "event_days": a.event_days,
        "now_ms": now * 1000,
    }
    if a.info:
        with open(a.info, "w") as f:
            json.dump(info, f, indent=1)
    db.close()
    log(f"sizes (bytes): {info['sizes']}")


if __name__ == "__main__":
    main()
