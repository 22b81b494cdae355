#!/usr/bin/env bash
# Profiles one Gatehouse scenario with `perf record -g` (SQLite, release build, server on core 1,
# wrk on core 0) and prints where the server's CPU time goes, by function (self time) and by
# top-level cause. Used for the "where the time goes" lines of BENCHMARKS.md.
#
#   bench/profile.sh [cc|discovery|jwks|introspect|introspect-user|userinfo|refresh|refresh-rotate|code] \
#                    [RS256|ES256|EdDSA] [seconds] [record|stat]
#
# `introspect-user` and `userinfo` use a user's access token (signed in through the form, as
# bench/run.mjs does): its record and its user are read, as in the bench's rows.
# `refresh` repeats one static refresh token (wrk). `refresh-rotate` and `code` spend what they
# present, so a small node loop (bench/lib/grant_load.mjs, 32 connections on core 0) drives them:
# one refresh-token chain per connection, or codes minted by single sign-on before the timed
# phase (for twice its length). The profiler starts after that preparation.
#
# Every mode prints the server's CPU per request (utime+stime from /proc over the timed phase).
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
DRIVER_PID=""
cleanup() {
  [[ -n "$DRIVER_PID" ]] && kill "$DRIVER_PID" 2>/dev/null || true
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
  --assign Everyone --grant-type authorization_code --grant-type refresh_token \
  --grant-type client_credentials --output json)"
ID="$(node -e 'const a=JSON.parse(process.argv[1]);console.log(a.client_id)' "$APP")"
SECRET="$(node -e 'const a=JSON.parse(process.argv[1]);console.log(a.client_secret)' "$APP")"
if [[ "$SCENARIO" == refresh-rotate ]]; then # the bench's second app: its refresh tokens rotate
  APP="$(gh app create-oidc --type web --label ProfileRotate --redirect-uri https://client.example.test/cb \
    --assign Everyone --grant-type authorization_code --grant-type refresh_token \
    --refresh-rotation rotate --output json)"
  ID="$(node -e 'const a=JSON.parse(process.argv[1]);console.log(a.client_id)' "$APP")"
  SECRET="$(node -e 'const a=JSON.parse(process.argv[1]);console.log(a.client_secret)' "$APP")"
fi

GATEHOUSE_SIGNIN_REQUESTS_PER_MINUTE_PER_IP=0 GATEHOUSE_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP=0 \
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
  refresh) # a static refresh token (Okta's default), as the bench's refresh row
      TOKEN="$(node bench/lib/grant_load.mjs refresh-token "$URL" "$ID" "$SECRET" "$LOGIN" "$PASSWORD" https://client.example.test/cb)"
      [[ -n "$TOKEN" ]] || { echo "profile: no refresh token" >&2; exit 1; }
      export BENCH_METHOD=POST BENCH_BODY="grant_type=refresh_token&refresh_token=$TOKEN" BENCH_AUTH="$AUTH"
      PATH_="/oauth2/default/v1/token" ;;
  refresh-rotate|code) ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac

# The server's CPU time so far, in clock ticks (utime + stime).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# CPU per request: ticks before, after, and the driver's BENCH_JSON line.
per_request() {
  local before="$1" after="$2" json="$3" hz
  # SQLite's WAL at the end of the timed phase: it should start over, not grow with the run.
  [[ -f "$DATA/gatehouse.db-wal" ]] && echo "WAL $(stat -c %s "$DATA/gatehouse.db-wal") bytes"
  hz="$(getconf CLK_TCK)"
  node -e 'const [b,a,hz,line]=process.argv.slice(1);const j=JSON.parse(line.replace(/^BENCH_JSON /,""));
    const n=j.requests-(j.errors||0)-(j.err_status||0);
    console.log(`${n} requests, ${(n/((j.seconds)||(j.duration_us/1e6))).toFixed(0)}/s, server CPU ${((a-b)/hz*1e6/n).toFixed(0)} µs per request`);' \
    "$before" "$after" "$hz" "$json"
}

# The signer's share of the samples (aws-lc's functions) and the CPU per request outside it:
# on a shared machine the signature's own cost varies with what runs on the other core, so
# before/after comparisons read the rest.
signing_share() {
  local share
  share="$(perf report -i "$OUT/profile.data" --no-children --sort symbol --stdio --percent-limit 0 2>/dev/null \
    | awk '/^ +[0-9.]+%/ && /aws_lc/ {sub("%", "", $1); s += $1} END {printf "%.2f", s}')"
  node -e 'const [share,b,a,hz,line]=process.argv.slice(1);const j=JSON.parse(line.replace(/^BENCH_JSON /,""));
    const n=j.requests-(j.errors||0)-(j.err_status||0); const us=(a-b)/hz*1e6/n;
    console.log(`signing (aws-lc) ${share}% of the samples; the rest ${(us*(1-share/100)).toFixed(0)} µs per request`);' \
    "$share" "$2" "$3" "$(getconf CLK_TCK)" "$1"
}

if [[ "$SCENARIO" == refresh-rotate || "$SCENARIO" == code ]]; then
  MODE_="${SCENARIO/refresh-rotate/rotate}"
  GO="$DATA/go"
  DRIVER_OUT="$DATA/driver.out"
  taskset -c 0 node bench/lib/grant_load.mjs "$MODE_" "$URL" "$ID" "$SECRET" "$LOGIN" "$PASSWORD" \
    https://client.example.test/cb "$SECS" 32 "$GO" >"$DRIVER_OUT" &
  DRIVER_PID=$!
  until grep -q '^READY' "$DRIVER_OUT" 2>/dev/null; do
    kill -0 "$DRIVER_PID" 2>/dev/null || { echo "profile: $SCENARIO driver failed" >&2; exit 1; }
    sleep 0.1
  done
  if [[ "$MODE" == stat ]]; then
    perf stat -e 'syscalls:sys_enter_fsync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_futex,context-switches,task-clock' \
      -p "$SERVER_PID" -- sleep "$SECS" 2>"$OUT/profile-stat.txt" &
  else
    perf record -q -g -p "$SERVER_PID" -o "$OUT/profile.data" -- sleep "$SECS" 2>/dev/null &
  fi
  PERF_PID=$!
  BEFORE="$(cpu_ticks)"
  touch "$GO"
  wait "$DRIVER_PID"
  AFTER="$(cpu_ticks)"
  JSON="$(grep BENCH_JSON "$DRIVER_OUT")"
  echo "$JSON"
  per_request "$BEFORE" "$AFTER" "$JSON"
  wait "$PERF_PID" || true
  if [[ "$MODE" == stat ]]; then
    grep -E '[0-9]' "$OUT/profile-stat.txt"
    exit 0
  fi
  REPORT="$OUT/profile-$SCENARIO-$ALG.txt"
  perf report -i "$OUT/profile.data" --no-children --sort dso,symbol --percent-limit 1.5 --stdio 2>/dev/null \
    | grep -v '^$' | grep -E '^ +[0-9]' >"$REPORT" || true
  head -40 "$REPORT"
  echo "(full report: $REPORT)"
  signing_share "$JSON" "$BEFORE" "$AFTER"
  exit 0
fi

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
  BEFORE="$(cpu_ticks)"
  JSON="$(taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s bench/lib/wrk_report.lua "$URL$PATH_" | grep BENCH_JSON)"
  AFTER="$(cpu_ticks)"
  echo "$JSON"
  per_request "$BEFORE" "$AFTER" "$JSON"
  wait "$STAT_PID" || true
  grep -E '[0-9]' "$OUT/profile-stat.txt"
  exit 0
fi
perf record -q -g -p "$SERVER_PID" -o "$OUT/profile.data" -- sleep "$SECS" 2>/dev/null &
PERF_PID=$!
BEFORE="$(cpu_ticks)"
JSON="$(taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s bench/lib/wrk_report.lua "$URL$PATH_" | grep BENCH_JSON)"
AFTER="$(cpu_ticks)"
echo "$JSON"
per_request "$BEFORE" "$AFTER" "$JSON"
wait "$PERF_PID" || true
REPORT="$OUT/profile-$SCENARIO-$ALG.txt"
perf report -i "$OUT/profile.data" --no-children --sort dso,symbol --percent-limit 1.5 --stdio 2>/dev/null \
  | grep -v '^$' | grep -E '^ +[0-9]' >"$REPORT" || true
head -40 "$REPORT"
echo "(full report: $REPORT)"
signing_share "$JSON" "$BEFORE" "$AFTER"
