"""Lists and reads Gatehouse's identity providers with Okta's own Python SDK (PyPI `okta` 3.x).

Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN (an API token), IDP_ID (the IdP to read),
OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true (the SDK refuses http:// without it).
Prints one line per check; exits non-zero on any failure.
"""

import asyncio
import os
import sys

from okta.client import Client as OktaClient

URL = os.environ["GATEHOUSE_URL"]
TOKEN = os.environ["GATEHOUSE_TOKEN"]
IDP_ID = os.environ["IDP_ID"]
failures = 0


def check(name, condition, detail=""):
    global failures
    print(f"{'ok  ' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"), flush=True)
    if not condition:
        failures += 1


async def main() -> int:
    client = OktaClient({"orgUrl": URL, "token": TOKEN, "requestTimeout": 30})
    idps, _, err = await client.list_identity_providers()
    check("list_identity_providers", err is None, err)
    ids = [i.id for i in idps or []]
    check("  ... includes the IdP", IDP_ID in ids, ids)
    idp, _, err = await client.get_identity_provider(IDP_ID)
    check("get_identity_provider", err is None, err)
    if idp is not None:
        check("  ... type OIDC", str(getattr(idp.type, "value", idp.type)) == "OIDC", idp.type)
        check("  ... ACTIVE", str(getattr(idp.status, "value", idp.status)) == "ACTIVE", idp.status)
        protocol = idp.protocol.actual_instance if idp.protocol is not None else None
        check("  ... protocol is OIDC", protocol is not None and type(protocol).__name__ == "ProtocolOidc", type(protocol))
        if protocol is not None:
            client_id = protocol.credentials.client.client_id if protocol.credentials else None
            check("  ... client_id", client_id == "gatehouse", client_id)
            token_url = protocol.endpoints.token.url if protocol.endpoints else None
            check("  ... token endpoint", bool(token_url) and token_url.endswith("/token"), token_url)
            secret = protocol.credentials.client.client_secret if protocol.credentials else None
            check("  ... client_secret not returned", not secret, secret)
        template = idp.policy.subject.user_name_template.template if idp.policy else None
        check("  ... userNameTemplate", template == "idpuser.email", template)
    print(f"{'all passed' if failures == 0 else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
