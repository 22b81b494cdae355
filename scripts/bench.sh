#!/usr/bin/env bash
# Gatehouse benchmark: one command that builds gatehouse (release), installs what the run needs
# (wrk and glewlwyd from Debian, the Node load generator's and oidc-provider's npm packages, the
# raw-limits microbenchmark), starts each server pinned to one core and prints the table (see
# BENCHMARKS.md).
#
#   scripts/bench.sh            full run: ~10 s per scenario, gatehouse on SQLite and PostgreSQL,
#                               panva/oidc-provider (and, for the code and refresh rows, the same
#                               issuing RS256 JWT access tokens: the equal-work row), Glewlwyd 2.7
#                               (client_credentials RS256/ES256, discovery, JWKS), raw
#                               RS256/ES256/EdDSA/argon2id limits (about 8 minutes)
#   scripts/bench.sh --smoke    ~2 s per scenario, gatehouse on SQLite only, no raw limits; exits
#                               non-zero unless every scenario completed requests with no errors
#
# Other options are passed to bench/run.mjs: --duration S, --concurrency N, --signin-concurrency N,
# --dbs sqlite,postgres, --targets gatehouse,oidc-provider,oidc-provider-jwt,glewlwyd, --out-dir DIR, --scenarios a,b (only those
# scenarios, by key: cc_rs256 discovery jwks userinfo introspect refresh code_exchange signin
# refresh_rotate cc_es256 cc_eddsa signin_totp).
#   scripts/bench.sh --cost     the cost curve instead (bench/cost.mjs, BENCHMARKS.md "Cost curve"):
#                               1k, 100k and 1M users seeded by bench/seed/seed.py on SQLite and
#                               PostgreSQL; with --smoke, 1k users on SQLite (< 60 s). Its own
#                               options (--sizes, --events, --dbs, --duration, ...) follow it.
# Environment: GATEHOUSE_BIN=path skips the release build (e.g. target/debug/gatehouse for a quick
# smoke in the test command; figures from a debug build mean nothing).
# Everything talks to 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

step() { printf '\n==> %s\n' "$*" >&2; }

SMOKE=0
COST=0
for arg in "$@"; do
  [[ "$arg" == "--smoke" ]] && SMOKE=1
  [[ "$arg" == "--cost" ]] && COST=1
done

if [[ "$(nproc)" -lt 2 ]]; then
  echo "bench: needs 2 CPUs (server on core 1, load generator on core 0)" >&2
  exit 1
fi

DB_PREFIX="gh_bench_$$"
RUNNER_PID=""
cleanup() {
  if [[ -n "$RUNNER_PID" ]] && kill -0 "$RUNNER_PID" 2>/dev/null; then
    kill -TERM "$RUNNER_PID" 2>/dev/null || true
    wait "$RUNNER_PID" 2>/dev/null || true
  fi
  # The runner drops its databases itself; this catches a runner that was killed outright.
  if command -v psql >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    for db in $(psql -h 127.0.0.1 -U postgres -d test -Atc \
      "SELECT datname FROM pg_database WHERE datname LIKE '${DB_PREFIX}\_%'" 2>/dev/null); do
      psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "tools: wrk, node, taskset"
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}
command -v wrk >/dev/null || apt_install wrk
# Glewlwyd (C peer, issue 21): the full run and any run that names it. The package's own service
# is not used; the runner starts its own instance on a free port with a throw-away database.
if [[ "$SMOKE" == 0 || " $* " == *"glewlwyd"* ]]; then
  step "glewlwyd (Debian package), sqlite3, openssl"
  { [[ -x /usr/bin/glewlwyd ]] && command -v sqlite3 >/dev/null && command -v openssl >/dev/null; } \
    || apt_install glewlwyd sqlite3 openssl
fi
command -v node >/dev/null || { echo "bench: node (>= 20) is required" >&2; exit 1; }
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is required" >&2; exit 1; }

step "npm packages (bench/, bench/oidc-provider/)"
[[ -d bench/node_modules/undici ]] || (cd bench && npm ci --no-audit --no-fund --loglevel=error)
if [[ "$SMOKE" == 0 && "$COST" == 0 || " $* " == *"oidc-provider"* ]]; then
  [[ -d bench/oidc-provider/node_modules/oidc-provider ]] \
    || (cd bench/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
fi
# test.sh installs what the smoke run needs ahead, in the background, while Rust builds.
[[ "${INSTALL_ONLY:-0}" == 1 ]] && exit 0

if [[ -n "${GATEHOUSE_BIN:-}" ]]; then
  BIN="$GATEHOUSE_BIN"
else
  step "cargo build --release -p gatehouse"
  cargo build --release -p gatehouse --locked
  BIN="$ROOT/target/release/gatehouse"
fi

EXTRA=()
if [[ "$SMOKE" == 0 && "$COST" == 0 ]]; then
  step "raw-limits microbenchmark (aws-lc-rs RS256/ES256/EdDSA, RustCrypto argon2id)"
  CARGO_TARGET_DIR="$ROOT/target/bench-rawlimits" \
    cargo build --release --locked --manifest-path bench/rawlimits/Cargo.toml
  EXTRA+=(--rawlimits-bin "$ROOT/target/bench-rawlimits/release/gatehouse-rawlimits")
  NEEDS_PG=1
else
  NEEDS_PG=0
fi
[[ " $* " == *"postgres"* ]] && NEEDS_PG=1

if [[ "$NEEDS_PG" == 1 ]]; then
  step "PostgreSQL at 127.0.0.1:5432"
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432
fi

if [[ "$COST" == 1 ]]; then
  source "$ROOT/scripts/bench_cost.sh"
fi

step "benchmark (server on core 1, load generator on core 0)"
taskset -c 0 node bench/run.mjs --gatehouse-bin "$BIN" --db-prefix "$DB_PREFIX" "${EXTRA[@]}" "$@" &
RUNNER_PID=$!
set +e
wait "$RUNNER_PID"
STATUS=$?
set -e
RUNNER_PID=""
exit "$STATUS"
