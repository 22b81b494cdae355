#!/usr/bin/env bash
# Several gatehouse nodes as real processes (tests/clients/multi_node/run.py, requests + PyJWT in
# .venv-multi-node): two nodes on one fresh PostgreSQL database (127.0.0.1:5432, dropped at the
# end) with one encryption key and one public URL — sign in on A and redeem at B, revocation and
# user deactivation seen across nodes, an app made on A used on B within the client cache's
# bound, key rotation against the other node's JWKS, kill -9 between the sign-in page and its
# POST, kill -9 under concurrent writes (PostgreSQL with two nodes, and SQLite), two nodes
# starting together on an empty database, and PostgreSQL stopped for 6 s and started again under
# load (multi_node/pg_restart.py: requests answered within 2 s by a 503 in Okta's or OAuth's
# error shape, no other 5xx, recovery within 5 s, every acknowledged write kept) on a throw-away
# cluster the test makes with initdb (as the postgres OS user, on a free port), never 5432.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Extra arguments go to run.py, e.g. --scenario rotation, --scenario restart, --list.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
venv="$root/.venv-multi-node"
run_timeout=300 # seconds for the whole run; run.py bounds every request and wait itself
export PYTHONDONTWRITEBYTECODE=1

source "$here/lib/deps.sh"
ensure_venv "$venv" 'import jwt, requests, cryptography; raise SystemExit(0 if jwt.__version__.startswith("2.") else 1)' \
  'pyjwt[crypto]>=2.8,<3' 'requests>=2.31,<3' || { echo "FAIL: cannot set up $venv"; exit 2; }
exit_if_install_only
[[ -x "$bin" ]] || { echo "FAIL: gatehouse binary not found at $bin (build it, or set GATEHOUSE_BIN)"; exit 2; }

work="$(mktemp -d)"
db_prefix="gatehouse_mn_$$_${RANDOM}"
pg=(psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt)
cleanup() {
  # run.py kills its servers and drops its databases; this is for when it could not.
  local pid db
  if [[ -f "$work/pids" ]]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null; done <"$work/pids"
  fi
  while read -r db; do
    [[ -n "$db" ]] && "${pg[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done < <("${pg[@]}" -c "SELECT datname FROM pg_database WHERE datname LIKE '${db_prefix}\\_%'" 2>/dev/null)
  # The restart scenario's own clusters (pg_ctl path and directory, one a line): only these.
  local pg_ctl dir
  if [[ -f "$work/pg_clusters" ]]; then
    while IFS=$'\t' read -r pg_ctl dir; do
      [[ -n "$dir" && -d "$dir/data" ]] && (cd / && runuser -u postgres -- "$pg_ctl" -D "$dir/data" stop -m immediate -w -t 10 >/dev/null 2>&1)
      [[ "$dir" == /tmp/gatehouse-pg-* ]] && rm -rf "$dir"
    done <"$work/pg_clusters"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== multi-node: $bin"
timeout --foreground -k 10 "$run_timeout" "$venv/bin/python" "$here/multi_node/run.py" \
  --gatehouse "$bin" --work "$work" --db-prefix "$db_prefix" "$@" 2>&1 | tee "$work/run.out"
status="${PIPESTATUS[0]}"
counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/run.out" | tail -n1)"
if [[ "$status" != 0 ]]; then
  [[ "$status" == 124 ]] && echo "multi-node: timed out after ${run_timeout}s"
  for log in "$work"/a.log "$work"/b.log "$work"/pgrestart.log "$work"/pgrestart-postgres.log; do
    [[ -f "$log" ]] && { echo "-- $(basename "$log") (tail)"; tail -n 15 "$log"; }
  done
  echo "multi-node: FAILED (${counts:-no result}, exit $status)"
  exit 1
fi
echo "multi-node: all passed (${counts:-nothing run})"
