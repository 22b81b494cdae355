#!/usr/bin/env bash
# Prometheus metrics and the JSON access log, checked with the real tooling, once per database
# backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}: a throwaway gatehouse
# (tests/clients/lib/serve.sh) with --metrics-bind on loopback and --log-format json; the CLI
# makes a user, a web app allowed client_credentials and a scope; metrics/check_metrics.py runs
# one client_credentials token, a failed and a successful sign-in and a code exchange, and
# checks that `promtool check metrics` accepts /metrics, that prometheus_client's parser sees
# each counter move by exactly the expected amount, and that the log has one access line per
# request with a request id and none of the flow's secrets.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: promtool (Debian's prometheus package, apt-get; its service is not
# started) and the virtualenv .venv-metrics (prometheus_client, requests).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
venv="$root/.venv-metrics"
run_timeout=180
export PYTHONDONTWRITEBYTECODE=1
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_promtool() {
  command -v promtool >/dev/null && return 0
  echo "installing Debian's prometheus package for promtool (apt-get)"
  (apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends prometheus >/dev/null; }) || return 1
  command -v promtool >/dev/null
}

ensure_promtool || { echo "FAIL: cannot install promtool (Debian package prometheus)"; exit 2; }
ensure_venv "$venv" 'import prometheus_client, requests' \
  'prometheus_client>=0.17,<1' 'requests>=2.31,<3' || { echo "FAIL: cannot set up $venv"; exit 2; }
exit_if_install_only
trap gh_stop EXIT
trap 'exit 130' INT TERM

# The metrics listener's address, from the server's log (it binds port 0).
metrics_url() {
  local port="" _
  for _ in $(seq 1 100); do
    port="$(sed -nE 's/.*metrics listening on http:\/\/127\.0\.0\.1:([0-9]+).*/\1/p' "$gh_log" | head -n1)"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] && echo "http://127.0.0.1:$port"
}

summary=()
failed=0
login="metrics.user@example.com"
password="metrics-password-$RANDOM-$RANDOM"
scope="metrics.read"
for backend in $backends; do
  echo
  echo "== metrics on $backend"
  if ! gh_start "$backend" GATEHOUSE_METRICS_BIND=127.0.0.1:0 GATEHOUSE_LOG_FORMAT=json; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; gh_stop; continue
  fi
  metrics="$(metrics_url)"
  if [[ -z "$metrics" ]]; then
    summary+=("$backend: FAILED (no metrics listener in the log)"); failed=1
    tail -n 20 "$gh_log"; gh_stop; continue
  fi
  cli=(env -u GATEHOUSE_LOG_FORMAT RUST_LOG=warn "$gh_bin" "${gh_global[@]}")
  app_json="$gh_work/app.json"
  if ! { printf '%s' "$password" | "${cli[@]}" user add --login "$login" --first-name Metrics --last-name User --password-stdin >/dev/null &&
    "${cli[@]}" auth-server add-scope --id default --name "$scope" >/dev/null &&
    "${cli[@]}" app create-oidc --type web --label "Metrics" --redirect-uri https://app.example.com/cb \
      --grant-type authorization_code --grant-type client_credentials --assign Everyone --output json >"$app_json"; }; then
    summary+=("$backend: FAILED (setup through the CLI)"); failed=1; gh_stop; continue
  fi
  client_id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$app_json")"
  client_secret="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$app_json")"
  out="$gh_work/check.out"
  GATEHOUSE_URL="$gh_url" METRICS_URL="$metrics" CLIENT_ID="$client_id" CLIENT_SECRET="$client_secret" \
    LOGIN="$login" PASSWORD="$password" SCOPE="$scope" LOG_FILE="$gh_log" PROMTOOL="$(command -v promtool)" \
    timeout --foreground "$run_timeout" "$venv/bin/python" "$here/metrics/check_metrics.py" 2>&1 | tee "$out"
  status="${PIPESTATUS[0]}"
  counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)"
  label="promtool $(promtool --version 2>&1 | sed -nE 's/^promtool, version ([^ ]+).*/\1/p'), prometheus_client $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("prometheus_client"))') / $backend"
  if [[ "$status" == 0 ]]; then
    summary+=("$label: ${counts:-passed}")
  else
    summary+=("$label: FAILED (${counts:-no result}, exit $status)"); failed=1
    echo "-- server log (tail)"; tail -n 20 "$gh_log"
  fi
  gh_stop
done

echo
echo "== metrics summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "metrics: FAILED"
  exit 1
fi
echo "metrics: all passed"
