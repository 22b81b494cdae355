#!/usr/bin/env bash
# The session kill switch and back-channel logout with real clients (tests/clients/logout/):
#   python  PyPI `okta` 3.x: clears a user's sessions with oauthTokens=true, then the refresh
#           token gets invalid_grant and the access token introspects inactive
#   node    a back-channel logout receiver verifying each logout_token with `jose` against the
#           issuer's JWKS: it gets one on the kill switch, RP-initiated logout and
#           DELETE /api/v1/sessions/me
# once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. The server runs with
# GATEHOUSE_DEV_JWKS_URI_ALLOW_LOOPBACK=true so that it may POST to the receiver on 127.0.0.1.
#   GATEHOUSE_BIN        the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: the virtualenv .venv-okta and node_modules from the committed lockfile.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
venv="$root/.venv-okta"
node_dir="$here/logout"
run_timeout=180  # seconds per run
export PYTHONDONTWRITEBYTECODE=1
export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true # the Python SDK refuses http:// without it
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_venv "$venv" "import pyotp; $OKTA_PY_PROBE" 'okta>=3,<4' pyotp || { echo "FAIL: cannot set up $venv"; exit 2; }
ensure_npm "$node_dir" "require.resolve('jose')" || { echo "FAIL: cannot install $node_dir/node_modules"; exit 2; }
exit_if_install_only

receiver_pid=""
stop_receiver() {
  if [[ -n "$receiver_pid" ]]; then
    kill "$receiver_pid" 2>/dev/null
    wait "$receiver_pid" 2>/dev/null
    receiver_pid=""
  fi
}
trap 'stop_receiver; gh_stop' EXIT
trap 'exit 130' INT TERM

summary=()
failed=0
for backend in $backends; do
  echo
  echo "== logout clients on $backend"
  if ! gh_start "$backend" GATEHOUSE_DEV_JWKS_URI_ALLOW_LOOPBACK=true; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; gh_stop; continue
  fi
  token="$(gh_token logout-tests)"
  if [[ -z "$token" ]]; then
    summary+=("$backend: FAILED (gatehouse token create)"); failed=1; gh_stop; continue
  fi
  port_file="$gh_work/receiver.port"
  (cd "$node_dir" && ISSUER="$gh_url/oauth2/default" PORT_FILE="$port_file" exec node receiver.mjs) \
    >"$gh_work/receiver.log" 2>&1 &
  receiver_pid=$!
  for _ in $(seq 1 100); do [[ -s "$port_file" ]] && break; sleep 0.1; done
  if [[ ! -s "$port_file" ]]; then
    summary+=("$backend: FAILED (receiver did not start)"); failed=1; cat "$gh_work/receiver.log"
    stop_receiver; gh_stop; continue
  fi
  receiver_url="http://127.0.0.1:$(cat "$port_file")"
  echo "gatehouse at $gh_url, receiver at $receiver_url"
  out="$gh_work/logout.out"
  GATEHOUSE_URL="$gh_url" GATEHOUSE_TOKEN="$token" RECEIVER_URL="$receiver_url" \
    timeout --foreground "$run_timeout" "$venv/bin/python" "$node_dir/test_logout.py" 2>&1 | tee "$out"
  status="${PIPESTATUS[0]}"
  counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)"
  label="python okta $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("okta"))') + node jose $(cd "$node_dir" && node -p "require('jose/package.json').version")"
  if [[ "$status" == 0 ]]; then
    summary+=("$label / $backend: ${counts:-passed}")
  else
    summary+=("$label / $backend: FAILED (${counts:-no result}, exit $status)")
    failed=1
    echo "-- receiver log"; cat "$gh_work/receiver.log"
    echo "-- server log (tail)"; tail -n 30 "$gh_log"
  fi
  stop_receiver
  gh_stop
done

echo
echo "== logout summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "logout clients: FAILED"
  exit 1
fi
echo "logout clients: all passed"
