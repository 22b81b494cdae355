"""Drives gatehouse's /api/v1 with Okta's own Python SDK (PyPI `okta` 3.x), unmodified.

Environment: GATEHOUSE_URL (e.g. http://127.0.0.1:8080), GATEHOUSE_TOKEN (an API token),
OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true (set by the runner; the SDK refuses http:// without it).
Prints one line per check and closes with "N passed, N failed"; exits non-zero on any failure.
"""

import asyncio
import os
import sys
import time
import traceback
import uuid

from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import (
    AddGroupRequest,
    CreateUserRequest,
    OktaUserGroupProfile,
    PasswordCredential,
    UpdateUserRequest,
    UserCredentialsWritable,
    UserProfile,
)
from okta.pagination import PaginationHelper

URL = os.environ["GATEHOUSE_URL"]
TOKEN = os.environ["GATEHOUSE_TOKEN"]
RUN = uuid.uuid4().hex[:8]  # keeps this run's records apart from anything else in the org
BULK = 205  # more than one default page (200)

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def no_error(name, err):
    check(name, err is None, f"error: {err}")
    if err is not None:
        raise RuntimeError(f"{name}: {err}")


def last(result):
    """The error of a call: the SDK returns (data, resp, err) or, for some calls, (resp, err)."""
    return result[-1]


def login(n):
    return f"py-{RUN}-{n}@example.com"


def new_user(n, first="Py", last=None, password=None):
    profile = UserProfile(
        firstName=first, lastName=last or f"User{n}", email=login(n), login=login(n)
    )
    creds = (
        UserCredentialsWritable(password=PasswordCredential(value=password))
        if password
        else None
    )
    return CreateUserRequest(profile=profile, credentials=creds)


async def main():
    client = OktaClient({"orgUrl": URL, "token": TOKEN, "requestTimeout": 30})

    # ---- users: create with and without credentials
    active, _, err = await client.create_user(
        new_user("a", first="Alice", password="correct horse 1"), activate=True
    )
    no_error("create user with password, activate=true", err)
    check("  ... is ACTIVE", str(active.status.value) == "ACTIVE", active.status)
    check("  ... has password credentials", active.credentials.password is not None)
    check(
        "  ... provider OKTA",
        active.credentials.provider.type.value == "OKTA"
        and active.credentials.provider.name == "OKTA",
    )
    check("  ... created is a datetime", active.created is not None)
    check("  ... _links.self", active.links.var_self.href.endswith(f"/api/v1/users/{active.id}"))

    provisioned, _, err = await client.create_user(new_user("p", first="Pat"), activate=True)
    no_error("create user without credentials, activate=true", err)
    check("  ... is PROVISIONED", provisioned.status.value == "PROVISIONED", provisioned.status)

    staged, _, err = await client.create_user(new_user("s", first="Sam"), activate=False)
    no_error("create user, activate=false", err)
    check("  ... is STAGED", staged.status.value == "STAGED", staged.status)

    # ---- get by id, by login, me
    got, _, err = await client.get_user(active.id)
    no_error("get user by id", err)
    check("  ... same login", got.profile.login == login("a"))
    got, _, err = await client.get_user(login("a"))
    no_error("get user by login", err)
    check("  ... same id", got.id == active.id)
    me, _, err = await client.get_user("me")
    no_error("get user 'me'", err)
    check("  ... is the token's owner", me.id not in (active.id, provisioned.id))

    # ---- errors
    missing, _, err = await client.get_user("00unothere0000000000")
    check(
        "missing user -> OktaAPIError E0000007",
        missing is None and isinstance(err, OktaAPIError) and err.error_code == "E0000007",
        repr(err),
    )
    check("  ... status 404", getattr(err, "status", None) == 404, getattr(err, "status", None))
    dup, _, err = await client.create_user(new_user("a"), activate=True)
    check(
        "duplicate login -> OktaAPIError E0000001",
        dup is None and isinstance(err, OktaAPIError) and err.error_code == "E0000001",
        repr(err),
    )
    check(
        "  ... cause names login",
        any("login" in c.get("errorSummary", "") for c in getattr(err, "error_causes", [])),
        getattr(err, "error_causes", None),
    )

    # ---- bulk: create enough users for two pages, in parallel batches
    started = time.monotonic()
    errors = []
    for start in range(0, BULK, 25):
        results = await asyncio.gather(
            *[
                client.create_user(new_user(f"bulk{n:03d}", first="Bulk"), activate=False)
                for n in range(start, min(start + 25, BULK))
            ]
        )
        errors += [e for (_, _, e) in results if e is not None]
    check(f"create {BULK} users in parallel batches", not errors, errors[:3])
    print(f"     ({time.monotonic() - started:.1f}s)")

    # ---- list: page through everything with the default limit (200), following Link next
    seen, cursor, pages = [], None, 0
    while True:
        users, resp, err = await client.list_users(after=cursor) if cursor else await client.list_users()
        no_error(f"list users page {pages + 1}", err)
        pages += 1
        seen += [u.id for u in users]
        cursor = PaginationHelper.extract_next_cursor(resp.headers)
        if not cursor or pages > 20:
            break
    check("list users pages through more than 200 users", pages >= 2 and len(seen) >= BULK + 3, (pages, len(seen)))
    check("  ... no duplicates across pages", len(seen) == len(set(seen)))
    check("  ... sees every created user", {active.id, provisioned.id, staged.id} <= set(seen))

    # small pages, with a search
    ids, cursor, pages = [], None, 0
    query = f'profile.login sw "py-{RUN}-bulk"'
    while True:
        kwargs = {"limit": 50, "search": query}
        if cursor:
            kwargs["after"] = cursor
        users, resp, err = await client.list_users(**kwargs)
        no_error(f"search page {pages + 1} (limit 50)", err)
        pages += 1
        ids += [u.id for u in users]
        cursor = PaginationHelper.extract_next_cursor(resp.headers)
        if not cursor or pages > 20:
            break
    check(f"search sw pages (limit 50) find exactly {BULK}", len(set(ids)) == BULK and pages == 5, (len(ids), pages))

    # ---- search / filter / q
    users, _, err = await client.list_users(filter=f'profile.login eq "{login("a")}"')
    no_error("filter profile.login eq", err)
    check("  ... finds exactly that user", [u.id for u in users] == [active.id], [u.id for u in users])
    users, _, err = await client.list_users(search=f'profile.email eq "{login("p")}"')
    no_error("search profile.email eq", err)
    check("  ... finds exactly that user", [u.id for u in users] == [provisioned.id])
    users, _, err = await client.list_users(filter=f'id eq "{staged.id}"')
    no_error("filter id eq", err)
    check("  ... finds exactly that user", [u.id for u in users] == [staged.id])
    users, _, err = await client.list_users(
        search=f'status eq "ACTIVE" and profile.login sw "py-{RUN}-"', limit=200
    )
    no_error("search status eq ACTIVE and login sw", err)
    check("  ... only the active one", [u.id for u in users] == [active.id], [u.id for u in users])
    users, _, err = await client.list_users(
        search=f'profile.login eq "{login("a")}" or profile.login eq "{login("s")}"'
    )
    no_error("search ... or ...", err)
    check("  ... both", sorted(u.id for u in users) == sorted([active.id, staged.id]))
    users, _, err = await client.list_users(q=f"py-{RUN}-p")
    no_error("q (starts with)", err)
    check("  ... finds the provisioned user", [u.id for u in users] == [provisioned.id], [u.id for u in users])
    bad, _, err = await client.list_users(search='status eq "ACTIVE" and')
    check(
        "bad search -> E0000001",
        bad is None and isinstance(err, OktaAPIError) and err.error_code == "E0000001",
        repr(err),
    )

    # ---- update: partial (POST) and full (PUT)
    upd, _, err = await client.update_user(
        active.id, UpdateUserRequest(profile=UserProfile(firstName="Alicia"))
    )
    no_error("update user (partial)", err)
    check("  ... first name changed", upd.profile.first_name == "Alicia")
    check("  ... last name kept", upd.profile.last_name == "Usera")
    full = UserProfile(
        firstName="Alice", lastName="Replaced", email=login("a"), login=login("a"), displayName="Alice R."
    )
    rep, _, err = await client.replace_user(active.id, UpdateUserRequest(profile=full))
    no_error("replace user (full)", err)
    check(
        "  ... profile replaced",
        rep.profile.last_name == "Replaced" and rep.profile.display_name == "Alice R.",
    )

    # ---- lifecycle
    err = last(await client.suspend_user(active.id))
    no_error("suspend", err)
    u, _, _ = await client.get_user(active.id)
    check("  ... SUSPENDED", u.status.value == "SUSPENDED", u.status)
    err = last(await client.unsuspend_user(active.id))
    no_error("unsuspend", err)
    u, _, _ = await client.get_user(active.id)
    check("  ... ACTIVE", u.status.value == "ACTIVE", u.status)
    err = last(await client.activate_user(staged.id, send_email=False))
    no_error("activate staged user (no password)", err)
    u, _, _ = await client.get_user(staged.id)
    check("  ... PROVISIONED", u.status.value == "PROVISIONED", u.status)

    # ---- groups
    grp, _, err = await client.add_group(
        AddGroupRequest(profile=OktaUserGroupProfile(name=f"py-{RUN}-team", description="Python SDK"))
    )
    no_error("create group", err)
    check("  ... OKTA_GROUP", grp.type.value == "OKTA_GROUP", grp.type)
    check("  ... objectClass", grp.object_class == ["okta:user_group"])
    got, _, err = await client.get_group(grp.id)
    no_error("get group", err)
    check("  ... name", got.profile.actual_instance.name == f"py-{RUN}-team")
    groups, _, err = await client.list_groups(q=f"py-{RUN}-")
    no_error("list groups with q", err)
    check("  ... finds it", [g.id for g in groups] == [grp.id], [g.id for g in groups])
    groups, _, err = await client.list_groups()
    no_error("list groups", err)
    everyone = [g for g in groups if g.type.value == "BUILT_IN"]
    check("  ... includes BUILT_IN Everyone", len(everyone) == 1)
    rep, _, err = await client.replace_group(
        grp.id,
        AddGroupRequest(profile=OktaUserGroupProfile(name=f"py-{RUN}-team2", description="renamed")),
    )
    no_error("replace group", err)
    check("  ... renamed", rep.profile.actual_instance.name == f"py-{RUN}-team2")

    err = last(await client.assign_user_to_group(grp.id, active.id))
    no_error("add member", err)
    err = last(await client.assign_user_to_group(grp.id, provisioned.id))
    no_error("add second member", err)
    members, _, err = await client.list_group_users(grp.id)
    no_error("list members", err)
    check("  ... both", sorted(m.id for m in members) == sorted([active.id, provisioned.id]))
    ugroups, _, err = await client.list_user_groups(active.id)
    no_error("list user's groups", err)
    names = sorted(g.profile.actual_instance.name for g in ugroups)
    check("  ... the group and Everyone", names == sorted(["Everyone", f"py-{RUN}-team2"]), names)
    err = last(await client.unassign_user_from_group(grp.id, provisioned.id))
    no_error("remove member", err)
    members, _, err = await client.list_group_users(grp.id)
    no_error("list members again", err)
    check("  ... one left", [m.id for m in members] == [active.id])

    if everyone:
        err = last(await client.delete_group(everyone[0].id))
        check(
            "deleting Everyone is refused (E0000006)",
            isinstance(err, OktaAPIError) and err.error_code == "E0000006",
            repr(err),
        )
    err = last(await client.delete_group(grp.id))
    no_error("delete group", err)
    gone, _, err = await client.get_group(grp.id)
    check("  ... then 404 E0000007", gone is None and isinstance(err, OktaAPIError) and err.error_code == "E0000007")

    # ---- deactivate and delete
    err = last(await client.deactivate_user(active.id))
    no_error("deactivate", err)
    u, _, _ = await client.get_user(active.id)
    check("  ... DEPROVISIONED", u.status.value == "DEPROVISIONED", u.status)
    err = last(await client.delete_user(active.id))
    no_error("delete deactivated user", err)
    gone, _, err = await client.get_user(active.id)
    check("  ... then 404 E0000007", gone is None and isinstance(err, OktaAPIError) and err.error_code == "E0000007")
    err = last(await client.delete_user(provisioned.id))
    no_error("first delete of an active user", err)
    u, _, _ = await client.get_user(provisioned.id)
    check("  ... only deactivates", u is not None and u.status.value == "DEPROVISIONED")
    err = last(await client.delete_user(provisioned.id))
    no_error("second delete", err)
    gone, _, err = await client.get_user(provisioned.id)
    check("  ... deletes", gone is None and isinstance(err, OktaAPIError) and err.error_code == "E0000007")

    # ---- a bad token
    bad_client = OktaClient({"orgUrl": URL, "token": "00" + "x" * 40})
    _, _, err = await bad_client.get_user("me")
    check(
        "bad token -> E0000011",
        isinstance(err, OktaAPIError) and err.error_code == "E0000011" and err.status == 401,
        repr(err),
    )


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception:  # noqa: BLE001 - report and count, then fail
        traceback.print_exc()
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
