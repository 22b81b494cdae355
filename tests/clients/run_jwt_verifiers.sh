#!/usr/bin/env bash
# JWT verifier libraries against gatehouse served over https (built-in TLS with a
# `gatehouse dev-cert` certificate), once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}:
#   jwt_verifiers/setup_tokens.py  registers a service app (POST /oauth2/v1/clients) and a web
#                                  app, signs a user in on the hosted page, gets the tokens
#   jwt_verifiers/verify_python.py okta-jwt-verifier (PyPI), which only accepts https issuers
#   jwt_verifiers/verify_node.js   @okta/jwt-verifier (npm), with no testing flags
# Each verifier must accept the access and ID tokens of the default authorization server and
# reject tampered ones (signature, audience, issuer, nonce, client, expiry).
# The dev CA is trusted through SSL_CERT_FILE (Python ssl/aiohttp), REQUESTS_CA_BUNDLE and
# NODE_EXTRA_CA_CERTS, exactly as `gatehouse dev-cert` prints.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: the virtualenv .venv-jwt-verifiers (requirements.txt) and
# tests/clients/jwt_verifiers/node_modules (npm ci from package-lock.json).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
dir="$here/jwt_verifiers"
venv="$root/.venv-jwt-verifiers"
run_timeout=60
export PYTHONDONTWRITEBYTECODE=1
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_venv "$venv" 'import okta_jwt_verifier, cryptography, importlib.metadata as m; raise SystemExit(0 if m.version("okta-jwt-verifier") == "0.5.0" else 1)' \
  -r "$dir/requirements.txt" || { echo "FAIL: cannot set up $venv"; exit 2; }
ensure_npm "$dir" "const v = require('@okta/jwt-verifier/package.json').version; process.exit(v === '4.0.2' ? 0 : 1)" ||
  { echo "FAIL: cannot install $dir/node_modules"; exit 2; }
exit_if_install_only
trap gh_stop EXIT
trap 'exit 130' INT TERM

py_label="okta-jwt-verifier $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("okta-jwt-verifier"))') (python)"
node_label="@okta/jwt-verifier $(cd "$dir" && node -p "require('@okta/jwt-verifier/package.json').version") (node)"
summary=()
failed=0
for backend in $backends; do
  echo
  echo "== JWT verifiers on $backend (https)"
  if ! gh_start_tls "$backend"; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; gh_stop; continue
  fi
  work="$gh_work"
  token="$(gh_token jwt-verifier-tests)"
  if [[ -z "$token" ]]; then
    summary+=("$backend: FAILED (gatehouse token create)"); failed=1; gh_stop; continue
  fi
  fixtures="$work/tokens.json"
  if ! SSL_CERT_FILE="$gh_ca" GATEHOUSE_URL="$gh_url" GATEHOUSE_TOKEN="$token" \
      timeout --foreground "$run_timeout" "$venv/bin/python" "$dir/setup_tokens.py" "$fixtures"; then
    summary+=("$backend: FAILED (getting tokens)"); failed=1
    echo "-- server log (tail)"; tail -n 20 "$gh_log"; gh_stop; continue
  fi
  for label in "$py_label" "$node_label"; do
    case "$label" in
      *python*) runner=("$venv/bin/python" "$dir/verify_python.py") ;;
      *node*) runner=(node "$dir/verify_node.js") ;;
    esac
    echo
    echo "-- $label / $backend"
    out="$work/verify.out"
    (cd "$dir" && SSL_CERT_FILE="$gh_ca" REQUESTS_CA_BUNDLE="$gh_ca" NODE_EXTRA_CA_CERTS="$gh_ca" \
      timeout --foreground "$run_timeout" "${runner[@]}" "$fixtures") 2>&1 | tee "$out"
    status="${PIPESTATUS[0]}"
    counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)"
    if [[ "$status" == 0 ]]; then
      summary+=("$label / $backend: ${counts:-passed}")
    else
      summary+=("$label / $backend: FAILED (${counts:-no result}, exit $status)")
      failed=1
      echo "-- server log (tail)"; tail -n 20 "$gh_log"
    fi
  done
  gh_stop
done

echo
echo "== JWT verifier summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "jwt verifiers: FAILED"
  exit 1
fi
echo "jwt verifiers: all passed"
