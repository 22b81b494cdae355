"""Sign-on policies through Okta's own Python SDK (PyPI `okta` 3.x), unmodified: the default
OKTA_SIGN_ON policy is listed, a policy for a group is created with a rule requiring MFA (factor
prompt per device, remembered a day), read back through the SDK's models, deactivated and
activated, and deleted; an ACCESS_POLICY with a 2FA rule is assigned to an app; the default
policy cannot be deleted.

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
    AccessPolicy,
    AccessPolicyRule,
    AccessPolicyRuleActions,
    AccessPolicyRuleApplicationSignOn,
    AddGroupRequest,
    AssuranceMethod,
    AuthenticatorEnrollmentPolicyConditionsAllOfPeople,
    AuthenticatorEnrollmentPolicyConditionsAllOfPeopleGroups,
    GroupCondition,
    OktaSignOnPolicy,
    OktaSignOnPolicyConditions,
    OktaSignOnPolicyRule,
    OktaSignOnPolicyRuleActions,
    OktaSignOnPolicyRuleConditions,
    OktaSignOnPolicyRuleSignonActions,
    OktaSignOnPolicyRuleSignonSessionActions,
    OktaUserGroupProfile,
    PolicyPeopleCondition,
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

    policies = value("list_policies(type=OKTA_SIGN_ON)", await client.list_policies(type="OKTA_SIGN_ON"))
    defaults = [p for p in policies or [] if p.system]
    check("the default policy is listed, system and ACTIVE",
          len(defaults) == 1 and isinstance(defaults[0], OktaSignOnPolicy)
          and enum(defaults[0].status) == "ACTIVE" and defaults[0].name == "Default Policy", policies)

    group = value("add_group", await client.add_group(
        AddGroupRequest(profile=OktaUserGroupProfile(name=f"MFA people {RUN}", description="policy test"))))
    if group is None:
        return

    policy = value("create_policy (OKTA_SIGN_ON for a group)", await client.create_policy(
        OktaSignOnPolicy(
            type="OKTA_SIGN_ON", name=f"Require MFA {RUN}", description="SDK test", priority=1,
            conditions=OktaSignOnPolicyConditions(
                people=AuthenticatorEnrollmentPolicyConditionsAllOfPeople(
                    groups=AuthenticatorEnrollmentPolicyConditionsAllOfPeopleGroups(include=[group.id])))),
        activate=True))
    if policy is None:
        return
    pid = policy.id
    check("created policy is an OktaSignOnPolicy with the group",
          isinstance(policy, OktaSignOnPolicy) and pid.startswith("00p") and enum(policy.status) == "ACTIVE"
          and policy.conditions.people.groups.include == [group.id], policy)

    rule = value("create_policy_rule (requireFactor, DEVICE)", await client.create_policy_rule(
        pid, OktaSignOnPolicyRule(
            type="SIGN_ON", name="MFA", priority=1,
            conditions=OktaSignOnPolicyRuleConditions(
                people=PolicyPeopleCondition(groups=GroupCondition(include=[group.id], exclude=[]))),
            actions=OktaSignOnPolicyRuleActions(signon=OktaSignOnPolicyRuleSignonActions(
                access="ALLOW", require_factor=True, factor_prompt_mode="DEVICE", factor_lifetime=1440,
                remember_device_by_default=True,
                session=OktaSignOnPolicyRuleSignonSessionActions(
                    max_session_idle_minutes=60, max_session_lifetime_minutes=480,
                    use_persistent_cookie=False))))))
    if rule is None:
        return
    signon = rule.actions.signon if rule.actions else None
    check("rule read back as an OktaSignOnPolicyRule requiring a factor",
          isinstance(rule, OktaSignOnPolicyRule) and signon is not None and signon.require_factor is True
          and enum(signon.factor_prompt_mode) == "DEVICE" and signon.factor_lifetime == 1440
          and signon.session.max_session_lifetime_minutes == 480, rule)

    rules = value("list_policy_rules", await client.list_policy_rules(pid))
    check("the rule is listed", any(r.id == rule.id for r in rules or []), rules)
    got = value("get_policy_rule", await client.get_policy_rule(pid, rule.id))
    check("get_policy_rule: the group condition",
          got is not None and got.conditions.people.groups.include == [group.id], got)

    err = last(await client.deactivate_policy(pid))
    check("deactivate_policy", err is None, err)
    got = value("get_policy", await client.get_policy(pid))
    check("the policy is INACTIVE", got is not None and enum(got.status) == "INACTIVE", got)
    err = last(await client.activate_policy(pid))
    check("activate_policy", err is None, err)

    policies = value("list_policies again", await client.list_policies(type="OKTA_SIGN_ON"))
    ids = [p.id for p in policies or []]
    check("the new policy comes before the default one",
          pid in ids and ids.index(pid) < ids.index(defaults[0].id if defaults else ""), ids)

    err = last(await client.delete_policy(defaults[0].id)) if defaults else None
    check("the default policy cannot be deleted (E0000001)",
          err is not None and getattr(err, "status", None) == 400 and "E0000001" in str(err), err)

    # An app's authentication policy: 2FA every 30 minutes, assigned with PUT apps/{id}/policies/{id}.
    access = value("create_policy (ACCESS_POLICY)", await client.create_policy(
        AccessPolicy(type="ACCESS_POLICY", name=f"App 2FA {RUN}", description="SDK test")))
    if access is not None:
        check("an AccessPolicy", isinstance(access, AccessPolicy), access)
        app_rule = value("create_policy_rule (2FA, PT30M)", await client.create_policy_rule(
            access.id, AccessPolicyRule(
                type="ACCESS_POLICY", name="2FA", priority=1,
                actions=AccessPolicyRuleActions(app_sign_on=AccessPolicyRuleApplicationSignOn(
                    access="ALLOW", verification_method=AssuranceMethod(
                        type="ASSURANCE", factor_mode="2FA", reauthenticate_in="PT30M", constraints=[]))))))
        method = app_rule.actions.app_sign_on.verification_method if app_rule else None
        check("access rule read back: 2FA, PT30M",
              isinstance(method, AssuranceMethod) and enum(method.factor_mode) == "2FA"
              and method.reauthenticate_in == "PT30M", app_rule)
        apps = value("list_applications", await client.list_applications())
        if apps:
            err = last(await client.assign_application_policy(apps[0].id, access.id))
            check("assign_application_policy", err is None, err)
        err = last(await client.delete_policy(access.id))
        check("delete_policy (ACCESS_POLICY)", err is None, err)

    err = last(await client.delete_policy_rule(pid, rule.id))
    check("delete_policy_rule", err is None, err)
    err = last(await client.delete_policy(pid))
    check("delete_policy", err is None, err)
    err = last(await client.get_policy(pid))
    check("deleted policy is gone (404)", err is not None and getattr(err, "status", None) == 404, err)
    err = last(await client.delete_group(group.id))
    check("delete_group", err is None, err)


try:
    asyncio.run(main())
except Exception:  # noqa: BLE001 - a crash is a failure with its trace
    traceback.print_exc()
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
