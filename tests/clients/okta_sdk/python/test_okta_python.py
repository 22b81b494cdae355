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
    ApplicationCredentialsOAuthClient,
    ApplicationGroupAssignment,
    AppUserAssignRequest,
    AppUserCredentials,
    CreateUserRequest,
    OAuth2ClientSecretRequestBody,
    OAuthApplicationCredentials,
    OpenIdConnectApplication,
    OpenIdConnectApplicationSettings,
    OpenIdConnectApplicationSettingsClient,
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

    await apps(client)

    # ---- a bad token
    bad_client = OktaClient({"orgUrl": URL, "token": "00" + "x" * 40})
    _, _, err = await bad_client.get_user("me")
    check(
        "bad token -> E0000011",
        isinstance(err, OktaAPIError) and err.error_code == "E0000011" and err.status == 401,
        repr(err),
    )


def oidc_app(label, app_type, auth_method, grant_types, redirect_uris=None, response_types=None, **settings):
    """An OpenIdConnectApplication built from the SDK's typed models, as an SDK user would."""
    return OpenIdConnectApplication(
        name="oidc_client",
        label=label,
        sign_on_mode="OPENID_CONNECT",
        credentials=OAuthApplicationCredentials(
            oauth_client=ApplicationCredentialsOAuthClient(token_endpoint_auth_method=auth_method)
        ),
        settings=OpenIdConnectApplicationSettings(
            oauth_client=OpenIdConnectApplicationSettingsClient(
                application_type=app_type,
                grant_types=grant_types,
                redirect_uris=redirect_uris,
                response_types=response_types,
                **settings,
            )
        ),
    )


def client_settings(app):
    return app.settings.oauth_client


async def apps(client):
    """/api/v1/apps: the seeds' Web, SPA and service apps, assignments, lifecycle, secrets."""
    web_redirect = f"https://netbox-{RUN}.example.com/oauth/complete/okta-openidconnect/"
    web_req = oidc_app(
        f"py-{RUN}-NetBox",
        "web",
        "client_secret_basic",
        ["authorization_code", "refresh_token"],
        [web_redirect],
        ["code"],
        post_logout_redirect_uris=[f"https://netbox-{RUN}.example.com/oauth/disconnect/okta-openidconnect/"],
        initiate_login_uri=f"https://netbox-{RUN}.example.com/oauth/login/okta-openidconnect/",
    )
    web, _, err = await client.create_application(web_req)
    no_error("create web app (OpenIdConnectApplication)", err)
    check("  ... typed as OpenIdConnectApplication", isinstance(web, OpenIdConnectApplication), type(web))
    check("  ... ACTIVE, oidc_client, OPENID_CONNECT",
          web.status.value == "ACTIVE" and web.name == "oidc_client" and web.sign_on_mode.value == "OPENID_CONNECT",
          (web.status, web.name, web.sign_on_mode))
    oc = web.credentials.oauth_client
    check("  ... client_id defaults to the app id", oc.client_id == web.id, (oc.client_id, web.id))
    check("  ... a client secret is returned", bool(oc.client_secret) and len(oc.client_secret) >= 14)
    check("  ... client_secret_basic", oc.token_endpoint_auth_method.value == "client_secret_basic")
    ws = client_settings(web)
    check("  ... redirect URIs kept byte for byte", ws.redirect_uris == [web_redirect], ws.redirect_uris)
    check("  ... grant and response types", [g.value for g in ws.grant_types] == ["authorization_code", "refresh_token"]
          and [r.value for r in ws.response_types] == ["code"])
    check("  ... initiate login: idp_initiated_login SPEC", ws.idp_initiated_login.mode == "SPEC", ws.idp_initiated_login)
    check("  ... consent TRUSTED, issuer DYNAMIC",
          ws.consent_method.value == "TRUSTED" and ws.issuer_mode.value == "DYNAMIC")
    check("  ... created/lastUpdated are datetimes", web.created is not None and web.last_updated is not None)
    check("  ... _links self, groups, users, deactivate",
          web.links.var_self.href.endswith(f"/api/v1/apps/{web.id}")
          and web.links.groups.href.endswith(f"/api/v1/apps/{web.id}/groups")
          and web.links.users.href.endswith(f"/api/v1/apps/{web.id}/users")
          and web.links.deactivate.href.endswith("/lifecycle/deactivate"))

    spa, _, err = await client.create_application(oidc_app(
        f"py-{RUN}-Collate", "browser", "none", ["authorization_code", "refresh_token"],
        [f"https://collate-{RUN}.example.com/callback", f"https://collate-{RUN}.example.com/silent-callback"],
        ["code"],
    ))
    no_error("create SPA (browser, none)", err)
    so = spa.credentials.oauth_client
    check("  ... public: no secret, PKCE required",
          not so.client_secret and so.pkce_required is True and so.token_endpoint_auth_method.value == "none",
          (so.client_secret, so.pkce_required))
    check("  ... two redirect URIs", len(client_settings(spa).redirect_uris) == 2)

    svc, _, err = await client.create_application(
        oidc_app(f"py-{RUN}-ingestion", "service", "client_secret_basic", ["client_credentials"]), activate=False
    )
    no_error("create service app, activate=false", err)
    check("  ... INACTIVE", svc.status.value == "INACTIVE", svc.status)
    check("  ... client_credentials only, no redirect URIs",
          [g.value for g in client_settings(svc).grant_types] == ["client_credentials"]
          and not client_settings(svc).redirect_uris)
    check("  ... has a secret", bool(svc.credentials.oauth_client.client_secret))
    check("  ... _links.activate", svc.links.activate is not None and svc.links.deactivate is None)

    # ---- validation errors: E0000001 naming the field, nothing created
    bad, _, err = await client.create_application(oidc_app(
        f"py-{RUN}-bad", "browser", "client_secret_basic", ["authorization_code"], ["https://x.example/cb"]))
    check("SPA with a client secret -> E0000001 token_endpoint_auth_method",
          bad is None and isinstance(err, OktaAPIError) and err.error_code == "E0000001"
          and "token_endpoint_auth_method" in err.error_summary, repr(err))
    bad, _, err = await client.create_application(oidc_app(
        f"py-{RUN}-bad", "web", "client_secret_basic", ["authorization_code"], ["javascript:alert(1)//"]))
    check("javascript: redirect URI -> E0000001 redirect_uris",
          isinstance(err, OktaAPIError) and err.error_code == "E0000001"
          and any("redirect_uris" in c.get("errorSummary", "") for c in err.error_causes), repr(err))
    bad, _, err = await client.create_application(oidc_app(
        f"py-{RUN}-bad", "service", "client_secret_basic", ["client_credentials", "authorization_code"],
        ["https://x.example/cb"]))
    check("service app with authorization_code -> E0000001",
          isinstance(err, OktaAPIError) and err.error_code == "E0000001", repr(err))
    found, _, err = await client.list_applications(q=f"py-{RUN}-bad")
    no_error("list apps q=<failed label>", err)
    check("  ... failed creates left nothing", found == [], found)

    # ---- get, list (q, filter, paging)
    got, _, err = await client.get_application(web.id)
    no_error("get app", err)
    check("  ... same app, typed, no secret shown again",
          isinstance(got, OpenIdConnectApplication) and got.id == web.id and got.label == web.label
          and not got.credentials.oauth_client.client_secret)
    found, _, err = await client.list_applications(q=f"py-{RUN}-")
    no_error("list apps with q", err)
    check("  ... exactly this run's three apps", sorted(a.id for a in found) == sorted([web.id, spa.id, svc.id]),
          [a.label for a in found])
    check("  ... typed OpenIdConnectApplication", all(isinstance(a, OpenIdConnectApplication) for a in found))
    found, _, err = await client.list_applications(q=f"py-{RUN}-", filter='status eq "ACTIVE"')
    no_error('list apps filter=status eq "ACTIVE"', err)
    check("  ... only the active two", sorted(a.id for a in found) == sorted([web.id, spa.id]), [a.label for a in found])
    ids, cursor, pages = [], None, 0
    while True:
        kwargs = {"q": f"py-{RUN}-", "limit": 1}
        if cursor:
            kwargs["after"] = cursor
        page, resp, err = await client.list_applications(**kwargs)
        no_error(f"list apps page {pages + 1} (limit 1)", err)
        pages += 1
        ids += [a.id for a in page]
        cursor = PaginationHelper.extract_next_cursor(resp.headers)
        if not cursor or pages > 10:
            break
    check("  ... Link next pages through all three", sorted(ids) == sorted([web.id, spa.id, svc.id]) and pages >= 3,
          (ids, pages))

    # ---- replace (PUT)
    upd = oidc_app(
        f"py-{RUN}-NetBox2", "web", "client_secret_post", ["authorization_code"],
        [web_redirect, f"https://netbox-{RUN}.example.com/alt/"], ["code"],
    )
    rep, _, err = await client.replace_application(web.id, upd)
    no_error("replace app", err)
    check("  ... label, auth method and URIs changed",
          rep.label == f"py-{RUN}-NetBox2"
          and rep.credentials.oauth_client.token_endpoint_auth_method.value == "client_secret_post"
          and len(client_settings(rep).redirect_uris) == 2
          and [g.value for g in client_settings(rep).grant_types] == ["authorization_code"])
    check("  ... same id and client id, still ACTIVE",
          rep.id == web.id and rep.credentials.oauth_client.client_id == web.id and rep.status.value == "ACTIVE")
    bad, _, err = await client.replace_application(web.id, oidc_app(
        f"py-{RUN}-NetBox3", "web", "client_secret_post", ["authorization_code"], ["https://x.example/cb#frag"]))
    check("replace with a fragment redirect URI -> E0000001", isinstance(err, OktaAPIError) and err.error_code == "E0000001")
    got, _, _ = await client.get_application(web.id)
    check("  ... and changed nothing", got.label == f"py-{RUN}-NetBox2" and len(client_settings(got).redirect_uris) == 2)

    # ---- group assignments
    grp, _, err = await client.add_group(AddGroupRequest(profile=OktaUserGroupProfile(name=f"py-{RUN}-netbox-users")))
    no_error("create group for the app", err)
    groups, _, _ = await client.list_groups(q="Everyone")
    everyone = [g for g in groups if g.type.value == "BUILT_IN"][0]
    a, _, err = await client.assign_group_to_application(web.id, everyone.id, ApplicationGroupAssignment(priority=0))
    no_error("assign Everyone to the web app", err)
    check("  ... ApplicationGroupAssignment id and priority", a.id == everyone.id and a.priority == 0, a)
    a, _, err = await client.assign_group_to_application(web.id, grp.id, ApplicationGroupAssignment(priority=5))
    no_error("assign a group with priority 5", err)
    check("  ... priority 5, _links.group", a.priority == 5 and a.links.group.href.endswith(f"/api/v1/groups/{grp.id}"))
    assigned, _, err = await client.list_application_group_assignments(web.id)
    no_error("list the app's group assignments", err)
    check("  ... both, by priority", [x.id for x in assigned] == [everyone.id, grp.id], [x.id for x in assigned])
    a, _, err = await client.get_application_group_assignment(web.id, grp.id)
    no_error("get one group assignment", err)
    check("  ... priority 5", a.priority == 5)
    err = last(await client.unassign_application_from_group(web.id, grp.id))
    no_error("unassign the group", err)
    assigned, _, _ = await client.list_application_group_assignments(web.id)
    check("  ... Everyone left", [x.id for x in assigned] == [everyone.id])
    _, _, err = await client.get_application_group_assignment(web.id, grp.id)
    check("  ... then 404 E0000007", isinstance(err, OktaAPIError) and err.error_code == "E0000007", repr(err))

    # ---- user assignments
    person, _, err = await client.create_user(new_user("appuser", first="App", password="correct horse 2"), activate=True)
    no_error("create a user to assign", err)
    au, _, err = await client.assign_user_to_application(
        spa.id, AppUserAssignRequest(id=person.id, scope="USER", credentials=AppUserCredentials(user_name=person.profile.login)))
    no_error("assign the user to the SPA", err)
    check("  ... AppUser scope USER, userName = login",
          au.id == person.id and au.scope == "USER" and au.credentials.user_name == login("appuser"), au)
    users, _, err = await client.list_application_users(spa.id)
    no_error("list the SPA's users", err)
    check("  ... exactly that user", [u.id for u in users] == [person.id], [u.id for u in users])
    au, _, err = await client.get_application_user(spa.id, person.id)
    no_error("get the app user", err)
    check("  ... scope USER", au.scope == "USER")
    au, _, err = await client.get_application_user(web.id, person.id)
    no_error("get a user assigned through Everyone", err)
    check("  ... scope GROUP", au.scope == "GROUP", au.scope)
    seen, cursor, pages = {}, None, 0
    while True:
        kwargs = {"limit": 100}
        if cursor:
            kwargs["after"] = cursor
        page, resp, err = await client.list_application_users(web.id, **kwargs)
        no_error(f"list the web app's users page {pages + 1} (Everyone assigned)", err)
        pages += 1
        seen.update({u.id: u.scope for u in page})
        cursor = PaginationHelper.extract_next_cursor(resp.headers)
        if not cursor or pages > 20:
            break
    check("  ... pages past 200 users, the new one with scope GROUP",
          len(seen) > 200 and pages >= 3 and seen.get(person.id) == "GROUP", (len(seen), pages))
    links, _, err = await client.list_app_links(person.id)
    no_error("list the user's appLinks", err)
    check("  ... the web app (via Everyone) and the SPA",
          {web.id, spa.id} <= {link.app_instance_id for link in links}, [link.label for link in links])
    err = last(await client.unassign_user_from_application(spa.id, person.id))
    no_error("unassign the user", err)
    _, _, err = await client.get_application_user(spa.id, person.id)
    check("  ... then 404 E0000007", isinstance(err, OktaAPIError) and err.error_code == "E0000007", repr(err))

    # ---- client secrets
    sec, _, err = await client.create_o_auth2_client_secret(web.id, OAuth2ClientSecretRequestBody())
    no_error("generate a new client secret", err)
    check("  ... returned once, ACTIVE", bool(sec.client_secret) and sec.status == "ACTIVE"
          and sec.client_secret != oc.client_secret, sec)
    secrets, _, err = await client.list_o_auth2_client_secrets(web.id)
    no_error("list client secrets", err)
    # Okta keeps up to two secrets: the new one joins the first, both ACTIVE, until the old is retired.
    check("  ... the first and the new one, both ACTIVE, values not shown",
          len(secrets) == 2 and sec.id in {s.id for s in secrets}
          and all(s.status == "ACTIVE" and not s.client_secret for s in secrets),
          [(s.id, s.status) for s in secrets])
    _, _, err = await client.create_o_auth2_client_secret(spa.id, OAuth2ClientSecretRequestBody())
    check("a public client has no secret -> E0000001", isinstance(err, OktaAPIError) and err.error_code == "E0000001")

    # ---- lifecycle and delete
    err = last(await client.delete_application(spa.id))
    check("deleting an ACTIVE app is refused (E0000056)",
          isinstance(err, OktaAPIError) and err.error_code == "E0000056" and err.status == 403, repr(err))
    err = last(await client.deactivate_application(spa.id))
    no_error("deactivate the SPA", err)
    got, _, _ = await client.get_application(spa.id)
    check("  ... INACTIVE", got.status.value == "INACTIVE", got.status)
    err = last(await client.delete_application(spa.id))
    no_error("delete the deactivated SPA", err)
    gone, _, err = await client.get_application(spa.id)
    check("  ... then 404 E0000007", gone is None and isinstance(err, OktaAPIError) and err.error_code == "E0000007")
    err = last(await client.activate_application(svc.id))
    no_error("activate the service app", err)
    got, _, _ = await client.get_application(svc.id)
    check("  ... ACTIVE", got.status.value == "ACTIVE", got.status)
    for app_id in (web.id, svc.id):
        await client.deactivate_application(app_id)
        err = last(await client.delete_application(app_id))
        no_error("clean up: deactivate and delete", err)
    await client.delete_group(grp.id)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception:  # noqa: BLE001 - report and count, then fail
        traceback.print_exc()
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
