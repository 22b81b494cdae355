#!/usr/bin/env bash
# Okta's own management SDKs against gatehouse's /api/v1, unmodified:
#   python  PyPI `okta` 3.x            (tests/clients/okta_sdk/python/test_okta_python.py,
#                                       test_okta_authz.py: custom authorization servers,
#                                       test_okta_policies.py: sign-on policies;
#                                       test_okta_factors.py: TOTP factors, codes from pyotp;
#                                       test_okta_passwords.py: password policy, change_password,
#                                       expire_password then the hosted page's new password,
#                                       a user imported with a bcrypt hash signing in)
#   node    @okta/okta-sdk-nodejs 8.x  (tests/clients/okta_sdk/node/test.js)
# once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. For each backend it
# starts a throwaway gatehouse (tests/clients/lib/serve.sh), creates an API token with
# `gatehouse token create`, and runs both SDK tests.
#   GATEHOUSE_BIN        the gatehouse binary (default: target/debug/gatehouse)
#   OKTA_SDK_CLIENTS     which SDKs to run (default: "python node")
# Installs what it needs: the virtualenv .venv-okta and node_modules from the committed lockfile.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
clients="${OKTA_SDK_CLIENTS:-python node}"
venv="$root/.venv-okta"
node_dir="$here/okta_sdk/node"
run_timeout=300  # seconds per SDK test run
export PYTHONDONTWRITEBYTECODE=1
export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true # the Python SDK refuses http:// without it
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

if [[ " $clients " == *" python "* ]]; then
  ensure_venv "$venv" "import pyotp, bcrypt, requests; $OKTA_PY_PROBE" 'okta>=3,<4' pyotp bcrypt requests || { echo "FAIL: cannot set up $venv"; exit 2; }
fi
if [[ " $clients " == *" node "* ]]; then
  ensure_npm "$node_dir" "$OKTA_NODE_PROBE" || { echo "FAIL: cannot install $node_dir/node_modules"; exit 2; }
fi
exit_if_install_only
trap gh_stop EXIT
trap 'exit 130' INT TERM

summary=()
failed=0
for backend in $backends; do
  echo
  echo "== okta SDKs on $backend"
  if ! gh_start "$backend"; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; gh_stop; continue
  fi
  url="$gh_url"
  token="$(gh_token okta-sdk-tests)"
  if [[ -z "$token" ]]; then
    summary+=("$backend: FAILED (gatehouse token create)"); failed=1; gh_stop; continue
  fi
  echo "gatehouse at $url, API token created"
  work="$gh_work"

  for client in $clients; do
    echo
    echo "-- $client SDK / $backend"
    out="$work/$client.out"
    case "$client" in
      python)
        label="python okta $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("okta"))')"
        GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
          "$venv/bin/python" "$here/okta_sdk/python/test_okta_python.py" 2>&1 | tee "$out"
        status="${PIPESTATUS[0]}"
        GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
          "$venv/bin/python" "$here/okta_sdk/python/test_okta_authz.py" 2>&1 | tee "$out.authz"
        authz_status="${PIPESTATUS[0]}"
        [[ "$status" == 0 ]] && status="$authz_status"
        GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
          "$venv/bin/python" "$here/okta_sdk/python/test_okta_policies.py" 2>&1 | tee "$out.policies"
        policies_status="${PIPESTATUS[0]}"
        [[ "$status" == 0 ]] && status="$policies_status"
        GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
          "$venv/bin/python" "$here/okta_sdk/python/test_okta_factors.py" 2>&1 | tee "$out.factors"
        factors_status="${PIPESTATUS[0]}"
        [[ "$status" == 0 ]] && status="$factors_status"
        GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
          "$venv/bin/python" "$here/okta_sdk/python/test_okta_passwords.py" 2>&1 | tee "$out.passwords"
        passwords_status="${PIPESTATUS[0]}"
        [[ "$status" == 0 ]] && status="$passwords_status"
        ;;
      node)
        label="node @okta/okta-sdk-nodejs $(cd "$node_dir" && node -p "require('@okta/okta-sdk-nodejs/package.json').version")"
        (cd "$node_dir" && GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
          node test.js) 2>&1 | tee "$out"
        status="${PIPESTATUS[0]}"
        ;;
      *)
        label="$client"; status=2; : >"$out"
        ;;
    esac
    counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)"
    if [[ "$status" == 0 ]]; then
      summary+=("$label / $backend: ${counts:-passed}")
    else
      summary+=("$label / $backend: FAILED (${counts:-no result}, exit $status)")
      failed=1
    fi
  done
  if [[ "$failed" != 0 ]]; then
    echo "-- server log (tail)"; tail -n 20 "$gh_log"
  fi
  gh_stop
done

echo
echo "== okta SDK summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "okta SDKs: FAILED"
  exit 1
fi
echo "okta SDKs: all passed"
