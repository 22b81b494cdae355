#!/usr/bin/env bash
# Sign-in through an upstream OpenID Connect identity provider, proven with real software:
# panva's oidc-provider 8.x (npm, tests/clients/idp/upstream.mjs) runs on a loopback port as
# the upstream, gatehouse federates to it (added with `gatehouse idp add-oidc`, discovery), and
# social-auth-core (the socialcore venv and RP code) signs a user in through gatehouse →
# upstream → back: JIT provisioning with mapped attributes and groups, a profile update on the
# second sign-in (through `idp=` on /authorize), email-domain routing, no Gatehouse password
# for the IdP's user, the System Log's auth_via_IDP events, and Okta's Python SDK 3.x listing
# and reading the IdP through /api/v1/idps. Once per backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. (The refusals — wrong iss, bad signature,
# replayed state, missing or wrong nonce — are Rust tests: crates/gatehouse/tests/it/idp_*.rs.)
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
run_timeout=600
export PYTHONDONTWRITEBYTECODE=1

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"

venv="$root/.venv-sc7"
okta_venv="$root/.venv-okta"
ensure_venv "$venv" 'import requests, social_core; raise SystemExit(0 if social_core.__version__.split(".")[0] == "7" else 1)' \
  'social-auth-core>=7,<8' requests || { echo "FAIL: cannot set up $venv"; exit 2; }
ensure_venv "$okta_venv" "import pyotp; $OKTA_PY_PROBE" 'okta>=3,<4' pyotp || { echo "FAIL: cannot set up $okta_venv"; exit 2; }
ensure_npm "$here/idp" 'const v = require("oidc-provider/package.json").version; process.exit(v.startsWith("8.") ? 0 : 1)' ||
  { echo "FAIL: cannot install oidc-provider"; exit 2; }
exit_if_install_only
if [[ ! -x "$bin" ]]; then
  echo "FAIL: gatehouse binary not found at $bin (build it, or set GATEHOUSE_BIN)"
  exit 2
fi

# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-idp-XXXXXX")"
cleanup() {
  gh_stop # drops the databases of gh_new_database
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

summary=()
failed=0
for backend in $backends; do
  db_args=()
  case "$backend" in
    sqlite) ;;
    postgres)
      if ! gh_new_database idp; then
        summary+=("idp / $backend: FAILED (could not create a database)")
        failed=1
        continue
      fi
      db_args=(--database-url "$gh_database_url")
      ;;
    *)
      summary+=("idp / $backend: FAILED (unknown backend)")
      failed=1
      continue
      ;;
  esac
  echo
  log="$(mktemp)"
  timeout --foreground "$run_timeout" "$venv/bin/python" "$here/idp/harness.py" --gatehouse "$bin" "${db_args[@]}" \
    --work "$work/$backend" --okta-python "$okta_venv/bin/python" "$@" 2>&1 | tee "$log"
  status="${PIPESTATUS[0]}"
  passed="$(sed -nE 's/^RESULT ([0-9]+\/[0-9]+) .*/\1/p' "$log" | tail -n1)"
  rm -f "$log"
  if [[ "$status" == 0 ]]; then
    summary+=("idp / $backend: $passed scenarios passed")
  else
    summary+=("idp / $backend: FAILED, ${passed:-no result} scenarios passed (exit $status)")
    failed=1
  fi
done

echo
echo "== idp summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "idp: FAILED"
  exit 1
fi
echo "idp: all passed"
