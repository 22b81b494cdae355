#!/usr/bin/env bash
# Profiles one Gatehouse scenario with `perf record -g` (SQLite, release build, server on core 1,
# wrk on core 0) and prints where the server's CPU time goes, by function (self time) and by
# top-level cause. Used for the "where the time goes" lines of BENCHMARKS.md.
#
#   bench/profile.sh [cc|discovery|jwks|introspect|introspect-user|userinfo] [RS256|ES256|EdDSA] [seconds] [record|stat]
#
# `introspect-user` and `userinfo` use a user's access token (signed in through the form, as
# bench/run.mjs does): its record and its user are read, as in the bench's rows.
#
# `stat` counts instead of sampling: the server's fsync, pwrite, pread and futex calls and its
# context switches during the run (`perf stat`), next to wrk's figures (BENCHMARKS.md, stop 13).
#
# GATEHOUSE_BIN=path picks the binary (default target/release/gatehouse). Output: target/bench/profile-*.txt
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO="${1:-cc}"
ALG="${2:-EdDSA}"
SECS="${3:-8}"
MODE="${4:-record}"
BIN="${GATEHOUSE_BIN:-$PWD/target/release/gatehouse}"
OUT="$PWD/target/bench"
mkdir -p "$OUT"
DATA="$(mktemp -d /tmp/gh-profile-XXXXXX)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

gh() { RUST_LOG=warn "$BIN" --data-dir "$DATA" "$@"; }
gh auth-server list >/dev/null # creates the database, the servers and their keys
gh auth-server set-alg --id default --alg "$ALG" >/dev/null
gh auth-server add-scope --id default --name bench.read >/dev/null # custom servers grant only their own scopes
LOGIN=profile.user@example.com
PASSWORD="Profile-$(head -c6 /dev/urandom | od -An -tx1 | tr -d ' \n')-pw!"
gh user add --login "$LOGIN" --first-name Profile --last-name User --password "$PASSWORD" --output json >/dev/null
APP="$(gh app create-oidc --type web --label Profile --redirect-uri https://client.example.test/cb \
  --assign Everyone --grant-type authorization_code --grant-type client_credentials --output json)"
ID="$(node -e 'const a=JSON.parse(process.argv[1]);console.log(a.client_id)' "$APP")"
SECRET="$(node -e 'const a=JSON.parse(process.argv[1]);console.log(a.client_secret)' "$APP")"

taskset -c 1 "$BIN" --data-dir "$DATA" serve --bind 127.0.0.1:0 >"$OUT/profile-server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do
  URL="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$OUT/profile-server.log" | head -1 | cut -d' ' -f3 || true)"
  [[ -n "$URL" ]] && break
  sleep 0.1
done
[[ -n "$URL" ]] || { echo "gatehouse did not start" >&2; exit 1; }

AUTH="Basic $(printf '%s:%s' "$ID" "$SECRET" | base64 -w0)"
case "$SCENARIO" in
  cc) export BENCH_METHOD=POST BENCH_BODY="grant_type=client_credentials&scope=bench.read" BENCH_AUTH="$AUTH"
      PATH_="/oauth2/default/v1/token" ;;
  discovery) PATH_="/oauth2/default/.well-known/openid-configuration" ;;
  jwks) PATH_="/oauth2/default/v1/keys" ;;
  introspect) # a client_credentials token, introspected by the client it was issued to
      TOKEN="$(curl -s -X POST -H "Authorization: $AUTH" --data "grant_type=client_credentials&scope=bench.read" \
        "$URL/oauth2/default/v1/token" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')"
      # Introspection answers 200 (active: false) for any string: check the token was issued.
      [[ "$TOKEN" == ey* ]] || { echo "profile: no client_credentials token to introspect" >&2; exit 1; }
      export BENCH_METHOD=POST BENCH_BODY="token=$TOKEN&token_type_hint=access_token" BENCH_AUTH="$AUTH"
      PATH_="/oauth2/default/v1/introspect" ;;
  introspect-user|userinfo) # a user's token (code flow), as the bench's userinfo and introspection rows
      TOKEN="$(node bench/lib/user_token.mjs "$URL" default "$ID" "$SECRET" "$LOGIN" "$PASSWORD" https://client.example.test/cb)"
      [[ "$TOKEN" == ey* ]] || { echo "profile: no user access token" >&2; exit 1; }
      if [[ "$SCENARIO" == userinfo ]]; then
        export BENCH_METHOD=GET BENCH_AUTH="Bearer $TOKEN"
        PATH_="/oauth2/default/v1/userinfo"
      else
        export BENCH_METHOD=POST BENCH_BODY="token=$TOKEN&token_type_hint=access_token" BENCH_AUTH="$AUTH"
        PATH_="/oauth2/default/v1/introspect"
      fi ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac

# The request must succeed before it is profiled: a profile of error answers says nothing.
ARGS=(-s -o /dev/null -w '%{http_code}')
if [[ "${BENCH_METHOD:-GET}" == POST ]]; then
  ARGS+=(-X POST -H "Authorization: $BENCH_AUTH" --data "$BENCH_BODY")
elif [[ -n "${BENCH_AUTH:-}" ]]; then
  ARGS+=(-H "Authorization: $BENCH_AUTH")
fi
STATUS="$(curl "${ARGS[@]}" "$URL$PATH_")"
[[ "$STATUS" == 200 ]] || { echo "profile: $SCENARIO answers $STATUS, not 200" >&2; exit 1; }

# Warm up, then record while wrk drives the server.
taskset -c 0 wrk -t1 -c32 -d1s -s bench/lib/wrk_report.lua "$URL$PATH_" >/dev/null
if [[ "$MODE" == stat ]]; then
  perf stat -e 'syscalls:sys_enter_fsync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_futex,context-switches,task-clock' \
    -p "$SERVER_PID" -- sleep "$SECS" 2>"$OUT/profile-stat.txt" &
  STAT_PID=$!
  taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s bench/lib/wrk_report.lua "$URL$PATH_" | grep BENCH_JSON
  wait "$STAT_PID" || true
  grep -E '[0-9]' "$OUT/profile-stat.txt"
  exit 0
fi
perf record -q -g -p "$SERVER_PID" -o "$OUT/profile.data" -- sleep "$SECS" 2>/dev/null &
PERF_PID=$!
taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s bench/lib/wrk_report.lua "$URL$PATH_" | grep BENCH_JSON
wait "$PERF_PID" || true
REPORT="$OUT/profile-$SCENARIO-$ALG.txt"
perf report -i "$OUT/profile.data" --no-children --sort dso,symbol --percent-limit 1.5 --stdio 2>/dev/null \
  | grep -v '^$' | grep -E '^ +[0-9]' >"$REPORT" || true
head -40 "$REPORT"
echo "(full report: $REPORT)"
