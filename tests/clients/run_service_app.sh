#!/usr/bin/env bash
# Service apps against gatehouse, once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}:
#   om_ingestion_okta.py     openmetadata-ingestion's Okta "ingestion bot" flow, reproduced with
#                            PyJWT + requests (venv .venv-service-app)
#   okta_sdk_private_key.py  Okta's Python SDK (okta 3.x, venv .venv-okta shared with
#                            run_okta_sdk.sh) granting scopes and calling /api/v1 in PrivateKey mode
#   okta_node_private_key.js the same with @okta/okta-sdk-nodejs 8.x (node_modules of
#                            tests/clients/okta_sdk/node, from its lockfile), which adds DPoP proofs
# For each backend it starts a throwaway gatehouse (tests/clients/lib/serve.sh), creates an API
# token with `gatehouse token create`, and runs the scripts.
#   om_ingestion_real.py     the real, unmodified openmetadata-ingestion 1.2.5.3
#                            OktaAuthenticationProvider (okta SDK 2.9.6) over built-in TLS, in
#                            .venv-om-ingestion-py310 (Python 3.10: 1.2.5's generated schemas do
#                            not import on 3.11; OM_PYTHON names the interpreter, else python3.10
#                            or pyenv's 3.10). GATEHOUSE_OM_INGESTION=0 skips it.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: the virtualenvs .venv-service-app (pyjwt[crypto], requests),
# .venv-okta (okta 3.x) and .venv-om-ingestion-py310 (service_app/om_ingestion_requirements.txt:
# the 38 pinned wheels that path needs, --no-deps --only-binary, well under a minute instead of
# the ~7 minutes of the package's full ~90-distribution dependency set), and
# tests/clients/okta_sdk/node/node_modules (npm ci).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
venv="$root/.venv-service-app"
okta_venv="$root/.venv-okta"
node_dir="$here/okta_sdk/node"
run_timeout=180
export PYTHONDONTWRITEBYTECODE=1
export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true # the okta SDK refuses http:// without it
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_venv "$venv" 'import jwt, requests, cryptography; raise SystemExit(0 if jwt.__version__.startswith("2.") else 1)' \
  'pyjwt[crypto]>=2.8,<3' 'requests>=2.31,<3' || { echo "FAIL: cannot set up $venv"; exit 2; }
ensure_npm "$node_dir" "$OKTA_NODE_PROBE" || { echo "FAIL: cannot install $node_dir/node_modules"; exit 2; }
ensure_venv "$okta_venv" "$OKTA_PY_PROBE" 'okta>=3,<4' || { echo "FAIL: cannot set up $okta_venv"; exit 2; }
om_real="${GATEHOUSE_OM_INGESTION:-1}"
om_venv="$root/.venv-om-ingestion-py310"
om_probe='import metadata.ingestion.ometa.auth_provider, metadata.utils.secrets.secrets_manager_factory, okta.request_executor, importlib.metadata as m; raise SystemExit(0 if m.version("okta") == "2.9.6" and m.version("openmetadata-ingestion").startswith("1.2.5") else 1)'
# A Python 3.10: OM_PYTHON, python3.10 on PATH, or pyenv's (its shim fails unless 3.10 is selected).
python310() {
  local c
  for c in ${OM_PYTHON:-} python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10; do
    if "$c" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}
if [[ "$om_real" == 1 ]]; then
  om_python="$(python310)" || { echo "FAIL: no Python 3.10 for $om_venv (set OM_PYTHON, or GATEHOUSE_OM_INGESTION=0 to skip)"; exit 2; }
  # Exactly the pinned wheels (no resolver, no builds): the full dependency set takes minutes.
  VENV_PYTHON="$om_python" ensure_venv "$om_venv" "$om_probe" --no-deps --only-binary :all: \
    -r "$here/service_app/om_ingestion_requirements.txt" || { echo "FAIL: cannot set up $om_venv"; exit 2; }
else
  echo "note: the real openmetadata-ingestion test is skipped (GATEHOUSE_OM_INGESTION=$om_real)"
fi
exit_if_install_only
trap gh_stop EXIT
trap 'exit 130' INT TERM

summary=()
failed=0
for backend in $backends; do
  echo
  echo "== service-app clients on $backend"
  if ! gh_start "$backend"; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; gh_stop; continue
  fi
  url="$gh_url"
  work="$gh_work"
  token="$(gh_token service-app-tests)"
  if [[ -z "$token" ]]; then
    summary+=("$backend: FAILED (gatehouse token create)"); failed=1; gh_stop; continue
  fi
  for script in om_ingestion_okta.py okta_sdk_private_key.py okta_node_private_key.js; do
    case "$script" in
      om_ingestion_okta.py)
        runner=("$venv/bin/python")
        label="openmetadata-ingestion Okta flow (pyjwt $("$venv/bin/python" -c 'import jwt; print(jwt.__version__)'))"
        ;;
      okta_sdk_private_key.py)
        runner=("$okta_venv/bin/python")
        label="python okta $("$okta_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("okta"))') PrivateKey mode"
        ;;
      okta_node_private_key.js)
        runner=(env NODE_PATH="$node_dir/node_modules" node)
        label="node @okta/okta-sdk-nodejs $(cd "$node_dir" && node -p "require('@okta/okta-sdk-nodejs/package.json').version") PrivateKey mode"
        ;;
    esac
    echo
    echo "-- $label / $backend"
    out="$work/$script.out"
    GATEHOUSE_URL="$url" GATEHOUSE_TOKEN="$token" timeout --foreground "$run_timeout" \
      "${runner[@]}" "$here/service_app/$script" 2>&1 | tee "$out"
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
  if [[ "$om_real" == 1 ]]; then
    label="openmetadata-ingestion $("$om_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openmetadata-ingestion"))') OktaAuthenticationProvider (https)"
    echo
    echo "-- $label / $backend"
    if gh_start_tls "$backend" && token="$(gh_token om-ingestion)" && [[ -n "$token" ]]; then
      out="$gh_work/om_real.out"
      SSL_CERT_FILE="$gh_ca" REQUESTS_CA_BUNDLE="$gh_ca" GATEHOUSE_URL="$gh_url" GATEHOUSE_TOKEN="$token" \
        timeout --foreground "$run_timeout" "$om_venv/bin/python" "$here/service_app/om_ingestion_real.py" 2>&1 | tee "$out"
      status="${PIPESTATUS[0]}"
      counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)"
      if [[ "$status" == 0 ]]; then
        summary+=("$label / $backend: ${counts:-passed}")
      else
        summary+=("$label / $backend: FAILED (${counts:-no result}, exit $status)"); failed=1
        echo "-- server log (tail)"; tail -n 20 "$gh_log"
      fi
    else
      summary+=("$label / $backend: FAILED (server did not start)"); failed=1
    fi
    gh_stop
  fi
done

echo
echo "== service app summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "service app: FAILED"
  exit 1
fi
echo "service app: all passed"
