"""Shared by the harnesses that sign a NetBox user in through gatehouse with social-auth-core
(idp/harness.py, ldap/harness.py): a gatehouse started with a config file, the NetBox web app
and NetBox's Okta backend configured for it, the ID token's claims, and the scenario loop.

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
    from netbox_rp import ...

It puts socialcore/ (the Browser, the Gatehouse runner, the NetBox simulation) on the path too.
"""

from __future__ import annotations

import base64
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "socialcore"))

from gatehouse import Gatehouse  # noqa: E402
from netbox_sim import NETBOX_ORIGIN, NetBoxSite, redirect_uri  # noqa: E402

OKTA = "okta-openidconnect"


class ConfiguredGatehouse(Gatehouse):
    """socialcore's Gatehouse runner, with a config file (it passes no GATEHOUSE_* variables)."""

    def __init__(self, *args, config: Path, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config = config

    def _global_options(self) -> list[str]:
        return ["--config", str(self.config), *super()._global_options()]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def create_netbox_app(gh: Gatehouse, label: str) -> dict:
    """NetBox's web app, assigned to everyone, with every group in the `groups` claim."""
    return gh.cli_json(
        "app", "create-oidc", "--type", "web", "--label", label,
        "--redirect-uri", redirect_uri(OKTA),
        "--post-logout-redirect-uri", f"{NETBOX_ORIGIN}/",
        "--assign", "Everyone",
        "--groups-claim-name", "groups", "--groups-claim-filter", "REGEX:.*",
    )  # fmt: skip


def netbox_site(client: dict, origin: str) -> NetBoxSite:
    """NetBox with its Okta backend pointing at gatehouse's org server, asking for groups."""
    return NetBoxSite(
        {
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY": client["client_id"],
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET": client["client_secret"],
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL": f"{origin}/oauth2/",
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_SCOPE": ["groups"],
        }
    )


def id_token_claims(user) -> dict:
    token = (user.social_user.extra_data or {}).get("id_token")
    expect(bool(token), f"no id_token kept by social-core: {user.social_user.extra_data}")
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def check_profile(user, first: str, last: str, email: str, groups: set[str]) -> None:
    got = (user.first_name, user.last_name, user.email)
    expect(got == (first, last, email), f"RP user has {got}, expected {(first, last, email)}")
    have = set(id_token_claims(user).get("groups", [])) - {"Everyone"}
    expect(have == groups, f"groups claim {sorted(have)}, expected {sorted(groups)}")


def run_scenarios(scenarios: Sequence[tuple[str, Callable]], run) -> int:
    """Runs the scenarios in order, printing PASS/FAIL; stops at the first failure (later
    scenarios build on earlier ones). Returns how many passed."""
    passed = 0
    for name, scenario in scenarios:
        try:
            scenario(run)
        except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
            print(f"FAIL {name}: {exc}", flush=True)
            if not isinstance(exc, AssertionError):
                traceback.print_exc()
            break
        passed += 1
        print(f"PASS {name}", flush=True)
    return passed
