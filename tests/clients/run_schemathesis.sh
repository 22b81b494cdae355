#!/usr/bin/env bash
# schemathesis (PyPI, 4.x) against the OpenAPI document gatehouse serves at /api/v1/openapi.json:
# property-based requests to every operation (coverage, fuzzing and stateful phases), checking
# that no response is a server error and that every response matches the documented status
# codes, content types and schemas. Once per backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}.
#   GATEHOUSE_BIN          the gatehouse binary (default: target/debug/gatehouse)
#   SCHEMATHESIS_EXAMPLES  examples per operation (default 40)
#   SCHEMATHESIS_SEED      the generator's seed (default fixed, so a failure reproduces)
# Installs what it needs into the virtualenv .venv-schemathesis.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv-schemathesis"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
examples="${SCHEMATHESIS_EXAMPLES:-40}"
seed="${SCHEMATHESIS_SEED:-20261201}"
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_venv "$venv" 'import importlib.metadata as m; raise SystemExit(0 if m.version("schemathesis").split(".")[0] == "4" else 1)' \
  'schemathesis>=4,<5' || { echo "FAIL: cannot set up $venv"; exit 2; }

exit_if_install_only
trap gh_stop EXIT
trap 'exit 130' INT TERM

summary=()
failed=0
for backend in $backends; do
  echo
  echo "== schemathesis on $backend"
  # A budget no fuzzing run reaches: the rate limit has its own test.
  if ! gh_start "$backend" GATEHOUSE_API_REQUESTS_PER_MINUTE=1000000; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; gh_stop; continue
  fi
  token="$(gh_token schemathesis)"
  out="$gh_work/schemathesis.out"
  # Run from the throwaway directory: schemathesis keeps a cache in its working directory.
  # No stateful phase: its link inference pairs `authServerId` with unrelated operations and
  # reports its own links as invalid.
  (cd "$gh_work" && timeout --foreground 600 "$venv/bin/schemathesis" run "$gh_url/api/v1/openapi.json" \
    --header "Authorization: SSWS $token" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" --seed "$seed" --no-color) 2>&1 | tee "$out"
  status="${PIPESTATUS[0]}"
  cases="$(grep -E '^ *[0-9]+ generated' "$out" | tail -n1 | sed 's/^ *//')"
  if [[ "$status" == 0 ]]; then
    summary+=("$backend: ${cases:-passed}")
  else
    summary+=("$backend: FAILED (${cases:-no result}, exit $status)"); failed=1
    echo "-- server log (tail)"; tail -n 20 "$gh_log"
  fi
  gh_stop
done

echo
echo "== schemathesis summary"
printf '%s\n' "${summary[@]}"
[[ "$failed" == 0 ]] || { echo "schemathesis: FAILED"; exit 1; }
echo "schemathesis: all passed"
