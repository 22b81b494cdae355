#!/usr/bin/env python3
"""NetBox's Okta sign-in (social-auth-core's OktaOpenIdConnect, as seed 000 configures it) with
the client ID and secret an admin read off Gatehouse's console.

  SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY / _SECRET / _API_URL   what seed 000 tells NetBox
  NB_LOGIN, NB_PASSWORD                                     the person who signs in
  NB_GROUPS=1                                               also ask for the `groups` scope and
                                                            run docs/integrations/netbox.md's group-mapping step

Prints `OK <username> <email>` (and ` groups=<a,b>` with NB_GROUPS) for the user NetBox logs in, or `FAIL <reason>`; exits non-zero
on failure. Reuses tests/clients/socialcore's NetBox stand-in and requests-based browser.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "socialcore"))

from browser import Browser  # noqa: E402
from netbox_sim import NETBOX_PIPELINE, NetBoxSite, redirect_uri  # noqa: E402

BACKEND = "okta-openidconnect"


def main() -> int:
    api_url = os.environ["SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL"]
    settings = {
        "SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY": os.environ["SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY"],
        "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET": os.environ["SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET"],
        "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL": api_url,
    }
    with_groups = os.environ.get("NB_GROUPS") == "1"
    if with_groups:
        settings["SOCIAL_AUTH_OKTA_OPENIDCONNECT_SCOPE"] = ["groups"]
        settings["SOCIAL_AUTH_PIPELINE"] = [*NETBOX_PIPELINE, "netbox_groups.sync_groups"]
    origin = api_url.split("/oauth2/")[0]
    site = NetBoxSite(settings)
    try:
        url = site.begin(BACKEND)
        departure = Browser(origin).sign_in(url, os.environ["NB_LOGIN"], os.environ["NB_PASSWORD"])
        if not departure.url.startswith(redirect_uri(BACKEND) + "?"):
            print(f"FAIL gatehouse sent the browser to {departure.url}")
            return 1
        user = site.complete(BACKEND, departure.url)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        print(f"FAIL {type(exc).__name__}: {exc}")
        return 1
    groups = f" groups={','.join(getattr(user, 'groups', []))}" if with_groups else ""
    print(f"OK {user.username} {user.email}{groups}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
