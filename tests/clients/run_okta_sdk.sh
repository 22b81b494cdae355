#!/usr/bin/env bash
# Okta's own management SDKs against gatehouse's /api/v1, unmodified:
#   python  PyPI `okta` 3.x            (tests/clients/okta_sdk/python/test_okta_python.py)
#   node    @okta/okta-sdk-nodejs 8.x  (tests/clients/okta_sdk/node/test.js)
# once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. For each backend it
# starts `gatehouse serve --bind 127.0.0.1:0`, reads the port from its "listening on" line,
# creates an API token with `gatehouse token create`, and runs both SDK tests.
#   GATEHOUSE_BIN        the gatehouse binary (default: target/debug/gatehouse)
#   OKTA_SDK_CLIENTS     which SDKs to run (default: "python node")
# Installs what it needs: the virtualenv .venv-okta and node_modules from the committed lockfile.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
clients="${OKTA_SDK_CLIENTS:-python node}"
venv="$root/.venv-okta"
node_dir="$here/okta_sdk/node"
pg=(psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt)
start_timeout=60 # seconds for `serve` to print its "listening on" line
run_timeout=300  # seconds per SDK test run
export PYTHONDONTWRITEBYTECODE=1
export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true # the Python SDK refuses http:// without it

ensure_venv() {
  local probe='import okta, importlib.metadata as m; v = m.version("okta"); raise SystemExit(0 if v.split(".")[0] == "3" else 1)'
  if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$probe" 2>/dev/null; then
    return 0
  fi
  echo "setting up $venv (okta 3.x)"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || return 1
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'okta>=3,<4' || return 1
  "$venv/bin/python" -c "$probe"
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

if [[ " $clients " == *" python "* ]]; then
  ensure_venv || { echo "FAIL: cannot set up $venv"; exit 2; }
fi
if [[ " $clients " == *" node "* ]]; then
  ensure_node_modules || { echo "FAIL: cannot install $node_dir/node_modules"; exit 2; }
fi
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

# Only the options given on the command line configure the server under test: `env` drops
# every GATEHOUSE_* variable, then execs the binary (so $! is the server's own pid).
ghenv=(env)
while IFS= read -r name; do ghenv+=(-u "$name"); done < <(env | sed -n 's/^\(GATEHOUSE_[A-Za-z0-9_]*\)=.*/\1/p')
ghenv+=(NO_COLOR=1 "$bin")

summary=()
failed=0
for backend in $backends; do
  work="$(mktemp -d)"
  global=(--data-dir "$work/data")
  case "$backend" in
    sqlite) ;;
    postgres)
      db="gatehouse_okta_$$_${RANDOM}"
      if ! "${pg[@]}" -c "CREATE DATABASE \"$db\"" >/dev/null; then
        summary+=("$backend: FAILED (could not create database $db)")
        failed=1
        cleanup
        continue
      fi
      created_dbs+=("$db")
      global+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
      ;;
    *)
      summary+=("$backend: FAILED (unknown backend)")
      failed=1
      cleanup
      continue
      ;;
  esac

  echo
  echo "== okta SDKs on $backend"
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
    summary+=("$backend: FAILED (server did not start)")
    failed=1
    cleanup
    continue
  fi
  url="http://127.0.0.1:$port"
  token="$(timeout 60 "${ghenv[@]}" "${global[@]}" token create --name "okta-sdk-tests" --output json </dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
  if [[ -z "$token" ]]; then
    summary+=("$backend: FAILED (gatehouse token create)")
    failed=1
    cleanup
    continue
  fi
  echo "gatehouse at $url, API token created"

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
    echo "-- server log (tail)"; tail -n 20 "$log"
  fi
  cleanup
done

echo
echo "== okta SDK summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "okta SDKs: FAILED"
  exit 1
fi
echo "okta SDKs: all passed"
