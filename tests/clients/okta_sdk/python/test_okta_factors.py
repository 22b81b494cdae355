"""Okta's Factors API through Okta's own Python SDK (PyPI `okta` 3.x), unmodified: the factor
catalog, enrolling a TOTP factor, activating it with a code from pyotp, listing, reading,
verifying and resetting it.

The SDK's typed activate/verify request models (3.x) carry no `passCode` (only push options), so
those two calls go through the SDK's own request executor with Okta's documented JSON body, as an
SDK user has to.

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN, OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true (set by
run_okta_sdk.sh). Prints one line per check and "N passed, N failed"; exits non-zero on failure.
"""

import asyncio
import json
import os
import sys
import time
import traceback
import uuid

import pyotp
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import (
    CreateUserRequest,
    PasswordCredential,
    UserCredentialsWritable,
    UserFactorTokenSoftwareTOTP,
    UserProfile,
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
        print(f"FAIL {name} {detail}")


def no_error(name, err):
    check(name, err is None, f"error: {err}")
    if err is not None:
        raise RuntimeError(f"{name}: {err}")


def value(enum_or_str):
    return getattr(enum_or_str, "value", enum_or_str)


async def raw_post(client, path, body):
    """A POST through the SDK's request executor: (parsed JSON body or None, error)."""
    executor = client.get_request_executor()
    request, err = await executor.create_request(method="POST", url=f"{URL}{path}", body=body, headers={})
    if err:
        return None, err
    _, body, err = await executor.execute(request)
    if isinstance(body, (str, bytes)) and body:
        body = json.loads(body)
    return body, err


async def main():
    client = OktaClient({"orgUrl": URL, "token": TOKEN, "requestTimeout": 30})
    login = f"totp-{RUN}@example.com"
    user, _, err = await client.create_user(
        CreateUserRequest(
            profile=UserProfile(firstName="Tia", lastName="Otp", email=login, login=login),
            credentials=UserCredentialsWritable(password=PasswordCredential(value="correct horse 9")),
        ),
        activate=True,
    )
    no_error("create a user", err)

    catalog, _, err = await client.list_supported_factors(user.id)
    no_error("list_supported_factors (catalog)", err)
    totp_entry = [f for f in catalog if value(f.factor_type) == "token:software:totp" and value(f.provider) == "GOOGLE"]
    check("  ... offers token:software:totp / GOOGLE, NOT_SETUP", totp_entry and value(totp_entry[0].status) == "NOT_SETUP",
          [(value(f.factor_type), value(f.provider), value(f.status)) for f in catalog])

    factors, _, err = await client.list_factors(user.id)
    no_error("list_factors (none yet)", err)
    check("  ... empty", factors == [], factors)

    enrolled, _, err = await client.enroll_factor(
        user.id, UserFactorTokenSoftwareTOTP(factorType="token:software:totp", provider="GOOGLE")
    )
    no_error("enroll_factor token:software:totp", err)
    check("  ... typed as UserFactorTokenSoftwareTOTP", isinstance(enrolled, UserFactorTokenSoftwareTOTP), type(enrolled))
    check("  ... PENDING_ACTIVATION", value(enrolled.status) == "PENDING_ACTIVATION", enrolled.status)
    activation = (enrolled.embedded or {}).get("activation", {})
    secret = activation.get("sharedSecret")
    check("  ... _embedded.activation has a base32 sharedSecret", bool(secret) and activation.get("encoding") == "base32",
          activation)
    check("  ... timeStep 30", activation.get("timeStep") == 30, activation)
    check("  ... _links.activate", enrolled.links is not None and enrolled.links.activate is not None)
    totp = pyotp.TOTP(secret)

    path = f"/api/v1/users/{user.id}/factors/{enrolled.id}"
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    _, err = await raw_post(client, f"{path}/lifecycle/activate", {"passCode": wrong})
    check("activate with a wrong code -> E0000068",
          isinstance(err, OktaAPIError) and err.error_code == "E0000068" and err.status == 403, repr(err))

    at = time.time()
    body, err = await raw_post(client, f"{path}/lifecycle/activate", {"passCode": totp.at(at)})
    no_error("activate with pyotp's code", err)
    check("  ... ACTIVE", (body or {}).get("status") == "ACTIVE", body)

    got, _, err = await client.get_factor(user.id, enrolled.id)
    no_error("get_factor", err)
    check("  ... ACTIVE, no secret any more", value(got.status) == "ACTIVE" and not (got.embedded or {}).get("activation"),
          got)
    factors, _, err = await client.list_factors(user.id)
    no_error("list_factors", err)
    check("  ... one TOTP factor", len(factors) == 1 and factors[0].id == enrolled.id, factors)

    _, err = await raw_post(client, f"{path}/verify", {"passCode": totp.at(at)})
    check("verify the activation's code again -> refused (replay)",
          isinstance(err, OktaAPIError) and err.status == 403, repr(err))
    body, err = await raw_post(client, f"{path}/verify", {"passCode": totp.at(at + 30)})
    no_error("verify the next code", err)
    check("  ... factorResult SUCCESS", (body or {}).get("factorResult") == "SUCCESS", body)

    result = await client.unenroll_factor(user.id, enrolled.id)
    no_error("unenroll_factor (reset)", result[-1])
    factors, _, err = await client.list_factors(user.id)
    no_error("list_factors after the reset", err)
    check("  ... empty", factors == [], factors)
    gone, _, err = await client.get_factor(user.id, enrolled.id)
    check("get_factor after the reset -> E0000007",
          gone is None and isinstance(err, OktaAPIError) and err.error_code == "E0000007", repr(err))

    await client.deactivate_user(user.id)
    await client.delete_user(user.id)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception:  # noqa: BLE001 - report and count, then fail
        traceback.print_exc()
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
