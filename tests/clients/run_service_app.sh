#!/usr/bin/env bash
# Service apps against gatehouse, once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}:
#   om_ingestion_okta.py     openmetadata-ingestion's Okta "ingestion bot" flow, reproduced with
#                            PyJWT + requests (venv .venv-service-app)
#   okta_sdk_private_key.py  Okta's Python SDK (okta 3.x, venv .venv-okta shared with
#                            run_okta_sdk.sh) granting scopes and calling /api/v1 in PrivateKey mode
#   okta_node_private_key.js the same with @okta/okta-sdk-nodejs 8.x (node_modules of
#                            tests/clients/okta_sdk/node, from its lockfile), which adds DPoP proofs For each backend it starts
# `gatehouse serve --bind 127.0.0.1:0`, reads the port from its "listening on" line, creates an
# API token with `gatehouse token create`, and runs the script.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: the virtualenvs .venv-service-app (pyjwt[crypto], requests) and
# .venv-okta (okta 3.x), and tests/clients/okta_sdk/node/node_modules (npm ci).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
venv="$root/.venv-service-app"
okta_venv="$root/.venv-okta"
node_dir="$here/okta_sdk/node"
pg=(psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt)
start_timeout=60
run_timeout=180
export PYTHONDONTWRITEBYTECODE=1
export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true # the okta SDK refuses http:// without it

ensure_venv() {
  local probe='import jwt, requests, cryptography; raise SystemExit(0 if jwt.__version__.startswith("2.") else 1)'
  if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$probe" 2>/dev/null; then
    return 0
  fi
  echo "setting up $venv (pyjwt 2.x, requests)"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || return 1
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'pyjwt[crypto]>=2.8,<3' 'requests>=2.31,<3' || return 1
  "$venv/bin/python" -c "$probe"
}

ensure_okta_venv() {
  local probe='import okta, importlib.metadata as m; v = m.version("okta"); raise SystemExit(0 if v.split(".")[0] == "3" else 1)'
  if [[ -x "$okta_venv/bin/python" ]] && "$okta_venv/bin/python" -c "$probe" 2>/dev/null; then
    return 0
  fi
  echo "setting up $okta_venv (okta 3.x)"
  [[ -x "$okta_venv/bin/python" ]] || python3 -m venv "$okta_venv" || return 1
  "$okta_venv/bin/python" -m pip install --quiet --disable-pip-version-check 'okta>=3,<4' || return 1
  "$okta_venv/bin/python" -c "$probe"
}

ensure_node_modules() {
  local probe="const v = require('@okta/okta-sdk-nodejs/package.json').version; process.exit(v.startsWith('8.') ? 0 : 1)"
  if (cd "$node_dir" && node -e "$probe" 2>/dev/null); then
    return 0
  fi
  echo "installing $node_dir/node_modules (npm ci)"
  (cd "$node_dir" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) || return 1
  (cd "$node_dir" && node -e "$probe")
}

ensure_venv || { echo "FAIL: cannot set up $venv"; exit 2; }
ensure_node_modules || { echo "FAIL: cannot install $node_dir/node_modules"; exit 2; }
ensure_okta_venv || { echo "FAIL: cannot set up $okta_venv"; exit 2; }
if [[ ! -x "$bin" ]]; then
  echo "FAIL: gatehouse binary not found at $bin (build it, or set GATEHOUSE_BIN)"
  exit 2
fi

server_pid=""
work=""
created_dbs=()
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
  fi
  local db
  for db in "${created_dbs[@]}"; do
    "${pg[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || echo "warning: could not drop database $db"
  done
  created_dbs=()
  [[ -n "$work" ]] && rm -rf "$work"
  work=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Only the command line configures the server under test: drop every GATEHOUSE_* variable.
ghenv=(env)
while IFS= read -r name; do ghenv+=(-u "$name"); done < <(env | sed -n 's/^\(GATEHOUSE_[A-Za-z0-9_]*\)=.*/\1/p')
ghenv+=(NO_COLOR=1 "$bin")

summary=()
failed=0
for backend in $backends; do
  work="$(mktemp -d)"
  global=(--data-dir "$work/data")
  if [[ "$backend" == postgres ]]; then
    db="gatehouse_svc_$$_${RANDOM}"
    if ! "${pg[@]}" -c "CREATE DATABASE \"$db\"" >/dev/null; then
      summary+=("$backend: FAILED (could not create database $db)"); failed=1; cleanup; continue
    fi
    created_dbs+=("$db")
    global+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
  elif [[ "$backend" != sqlite ]]; then
    summary+=("$backend: FAILED (unknown backend)"); failed=1; cleanup; continue
  fi

  echo
  echo "== service-app clients on $backend"
  log="$work/serve.log"
  "${ghenv[@]}" "${global[@]}" serve --bind 127.0.0.1:0 </dev/null >"$log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 $((start_timeout * 10))); do
    port="$(sed -nE 's/.*listening on http:\/\/127\.0\.0\.1:([0-9]+).*/\1/p' "$log" | head -n1)"
    [[ -n "$port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "gatehouse serve did not start:"; tail -n 30 "$log"
    summary+=("$backend: FAILED (server did not start)"); failed=1; cleanup; continue
  fi
  url="http://127.0.0.1:$port"
  token="$(timeout 60 "${ghenv[@]}" "${global[@]}" token create --name "service-app-tests" --output json </dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
  if [[ -z "$token" ]]; then
    summary+=("$backend: FAILED (gatehouse token create)"); failed=1; cleanup; continue
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
      echo "-- server log (tail)"; tail -n 20 "$log"
    fi
  done
  cleanup
done

echo
echo "== service app summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "service app: FAILED"
  exit 1
fi
echo "service app: all passed"
