"""Okta's Python SDK (PyPI `okta` 3.x) on the lifecycle calls that hand out links:
`activate_user(send_email=False)` and `reset_password(send_email=False)`.

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN, OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true.
Prints one line per check and "N passed, N failed".
"""

import asyncio
import os
import sys
import uuid

from okta.client import Client as OktaClient
from okta.models import CreateUserRequest, UserProfile

URL = os.environ["GATEHOUSE_URL"]
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


async def main():
    client = OktaClient({"orgUrl": URL, "token": os.environ["GATEHOUSE_TOKEN"], "raiseException": False})
    run = uuid.uuid4().hex[:8]
    login = f"sdk-{run}@example.com"
    body = CreateUserRequest(profile=UserProfile(firstName="Sdk", lastName="Staged", email=login, login=login))
    user, _, err = await client.create_user(body, activate=False)
    check("create_user(activate=False) is STAGED", err is None and str(user.status.value) == "STAGED", f"{err} {user}")
    if err is not None:
        return
    token, _, err = await client.activate_user(user.id, send_email=False)
    check(
        "activate_user(send_email=False) returns activationUrl and activationToken",
        err is None and token.activation_url == f"{URL}/welcome/{token.activation_token}",
        f"{err} {token}",
    )
    got, _, err = await client.get_user(user.id)
    check("the user is PROVISIONED until they set a password", err is None and str(got.status.value) == "PROVISIONED", f"{err}")

    # Reset: a user with a password goes to RECOVERY and gets a reset link.
    login2 = f"sdk-{run}-2@example.com"
    body = {
        "profile": {"firstName": "Sdk", "lastName": "Active", "email": login2, "login": login2},
        "credentials": {"password": {"value": "Sdk-Initial-Passw0rd"}},
    }
    user2, _, err = await client.create_user(body, activate=True)
    check("create_user with a password is ACTIVE", err is None and str(user2.status.value) == "ACTIVE", f"{err}")
    if err is not None:
        return
    reset, _, err = await client.reset_password(user2.id, send_email=False)
    check(
        "reset_password(send_email=False) returns resetPasswordUrl",
        err is None and reset.reset_password_url.startswith(f"{URL}/signin/reset-password/"),
        f"{err} {reset}",
    )
    got, _, err = await client.get_user(user2.id)
    check("the user is in RECOVERY", err is None and str(got.status.value) == "RECOVERY", f"{err}")
    print(f"RESET_URL {reset.reset_password_url if reset else ''}")
    print(f"RESET_LOGIN {login2}")


asyncio.run(main())
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
