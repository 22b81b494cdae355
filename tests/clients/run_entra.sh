#!/usr/bin/env bash
# Full logins through python-social-auth's Azure AD backends (azuread-oauth2, azuread-tenant-oauth2,
# azuread-oauth2-v2, azuread-v2-tenant-oauth2, as NetBox uses them) against gatehouse's
# Entra-compatible paths, gatehouse serving https with a `gatehouse dev-cert` certificate.
#
# Runs tests/clients/entra/harness.py with social-auth-core 5.1.0 (NetBox 4.7's pin) and the
# latest 7.x, once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}
# (lib/social_core.sh: also SOCIAL_CORE_VERSIONS).
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Extra arguments go to the harness, e.g. --verbose, --keep, --scenario azuread-oauth2.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/social_core.sh
source "$here/lib/social_core.sh"
social_core_suite entra "$here/entra/harness.py" "$@"
