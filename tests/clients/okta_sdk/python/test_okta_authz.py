"""Custom authorization servers through Okta's own Python SDK (PyPI `okta` 3.x), unmodified: the
seed 003 setup (a server, a default scope, a claim, an access policy for a client and a rule), read
back through the SDK's models, the signing keys and their rotation, then deactivation and deletion.

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN, OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true (set by
tests/clients/run_okta_sdk.sh). Prints one line per check and "N passed, N failed".
"""

import asyncio
import os
import sys
import traceback
import uuid

from okta.client import Client as OktaClient
from okta.models import (
    AuthorizationServer,
    AuthorizationServerPolicy,
    AuthorizationServerPolicyConditions,
    AuthorizationServerPolicyPeopleCondition,
    AuthorizationServerPolicyRuleActions,
    AuthorizationServerPolicyRuleConditions,
    AuthorizationServerPolicyRuleGroupCondition,
    AuthorizationServerPolicyRuleRequest,
    ClientPolicyCondition,
    GrantTypePolicyRuleCondition,
    JwkUse,
    OAuth2Claim,
    OAuth2ClaimConditions,
    OAuth2Scope,
    OAuth2ScopesMediationPolicyRuleCondition,
    TokenAuthorizationServerPolicyRuleAction,
)

URL = os.environ["GATEHOUSE_URL"]
TOKEN = os.environ["GATEHOUSE_TOKEN"]
RUN = uuid.uuid4().hex[:8]

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def value(name, result):
    """The data of an SDK call `(data, response, error)`, or None after reporting the error."""
    data, _, err = result
    check(name, err is None, err)
    return data


def last(result):
    """The error of an SDK call, whatever the tuple's length (calls without data return two)."""
    return result[-1]


def enum(v):
    return getattr(v, "value", v)


async def main():
    client = OktaClient({"orgUrl": URL, "token": TOKEN})
    server = value("create_authorization_server", await client.create_authorization_server(
        AuthorizationServer(name=f"OpenMetadata {RUN}", description="seed 003", audiences=["api://om"])))
    if server is None:
        return
    sid = server.id
    check("server has an aus id, issuer and DYNAMIC mode",
          sid.startswith("aus") and server.issuer == f"{URL}/oauth2/{sid}" and enum(server.issuer_mode) == "DYNAMIC",
          server)
    server.issuer_mode = "ORG_URL"
    replaced = value("replace_authorization_server (issuer mode Okta URL)",
                     await client.replace_authorization_server(sid, server))
    check("issuer mode is ORG_URL", replaced is not None and enum(replaced.issuer_mode) == "ORG_URL", replaced)
    got = value("get_authorization_server", await client.get_authorization_server(sid))
    check("read back: audiences", got is not None and got.audiences == ["api://om"], got)
    listed = value("list_authorization_servers", await client.list_authorization_servers(q="OpenMetadata"))
    check("listed by q", listed is not None and any(s.id == sid for s in listed), listed)

    scope = value("create_o_auth2_scope (default)", await client.create_o_auth2_scope(
        sid, OAuth2Scope(name="om:read", description="read", default=True, metadata_publish="ALL_CLIENTS")))
    scopes = value("list_o_auth2_scopes", await client.list_o_auth2_scopes(sid))
    names = [s.name for s in scopes or []]
    check("scopes: system ones and om:read", "openid" in names and "om:read" in names, names)
    check("om:read is a default scope", scope is not None and scope.default is True, scope)

    claim = value("create_o_auth2_claim", await client.create_o_auth2_claim(sid, OAuth2Claim(
        name="email_addr", claim_type="RESOURCE", value_type="EXPRESSION", value="user.email",
        always_include_in_token=True, conditions=OAuth2ClaimConditions(scopes=[]))))
    claims = value("list_o_auth2_claims", await client.list_o_auth2_claims(sid))
    check("claim read back", claim is not None and any(c.name == "email_addr" and c.value == "user.email"
                                                       for c in claims or []), claims)

    policy = value("create_authorization_server_policy", await client.create_authorization_server_policy(
        sid, AuthorizationServerPolicy(type="OAUTH_AUTHORIZATION_POLICY", name="OM policy", description="OM",
                                       priority=1, conditions=AuthorizationServerPolicyConditions(
                                           clients=ClientPolicyCondition(include=["ALL_CLIENTS"])))))
    if policy is None:
        return
    rule = value("create_authorization_server_policy_rule", await client.create_authorization_server_policy_rule(
        sid, policy.id, AuthorizationServerPolicyRuleRequest(
            type="RESOURCE_ACCESS", name="OM rule", priority=1,
            conditions=AuthorizationServerPolicyRuleConditions(
                people=AuthorizationServerPolicyPeopleCondition(
                    groups=AuthorizationServerPolicyRuleGroupCondition(include=["EVERYONE"])),
                grant_types=GrantTypePolicyRuleCondition(include=["authorization_code", "client_credentials"]),
                scopes=OAuth2ScopesMediationPolicyRuleCondition(include=["*"])),
            actions=AuthorizationServerPolicyRuleActions(token=TokenAuthorizationServerPolicyRuleAction(
                access_token_lifetime_minutes=30, refresh_token_lifetime_minutes=0,
                refresh_token_window_minutes=10080)))))
    rules = value("list_authorization_server_policy_rules",
                  await client.list_authorization_server_policy_rules(sid, policy.id))
    check("rule read back with its lifetime", rule is not None and any(
        r.name == "OM rule" and r.actions.token.access_token_lifetime_minutes == 30 for r in rules or []), rules)
    policies = value("list_authorization_server_policies", await client.list_authorization_server_policies(sid))
    check("policy read back", any(p.id == policy.id and p.conditions.clients.include == ["ALL_CLIENTS"]
                                  for p in policies or []), policies)

    keys = value("list_authorization_server_keys", await client.list_authorization_server_keys(sid))
    old = [k.kid for k in keys or []]
    rotated = value("rotate_authorization_server_keys",
                    await client.rotate_authorization_server_keys(sid, JwkUse(use="sig")))
    kids = [k.kid for k in rotated or []]
    check("rotation keeps the old key", len(old) == 1 and old[0] in kids and len(kids) == 2, kids)

    err = last(await client.deactivate_authorization_server(sid))
    check("deactivate_authorization_server", err is None, err)
    err = last(await client.delete_authorization_server(sid))
    check("delete_authorization_server", err is None, err)
    err = last(await client.get_authorization_server(sid))
    check("deleted server is gone (404)", err is not None and getattr(err, "status", None) == 404, err)


try:
    asyncio.run(main())
except Exception:  # noqa: BLE001 - a crash is a failure with its trace
    traceback.print_exc()
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
