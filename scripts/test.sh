#!/usr/bin/env bash
# The whole test suite, from a fresh machine: starts PostgreSQL if it is down, installs what the
# client tests need (Python venvs from PyPI, node_modules from npm), runs formatting and lint
# checks, the Rust tests on SQLite and PostgreSQL, the real-client tests against a running
# gatehouse, and the benchmark's smoke mode (so the harness cannot rot).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step prints how long the one before it took, so a slow CI run shows where its time went.
STEP_NAME=""
STEP_START=$SECONDS
step() {
  [[ -n "$STEP_NAME" ]] && printf '<== %ds: %s\n' "$((SECONDS - STEP_START))" "$STEP_NAME"
  STEP_NAME="$*"
  STEP_START=$SECONDS
  printf '\n==> %s (at %ds)\n' "$*" "$SECONDS"
}

step "PostgreSQL at 127.0.0.1:5432"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

step "client dependencies: installing in the background while Rust builds (log: target/client-deps.log)"
# Downloads and unpacking wait on the network and the disk more than on the CPU, so they
# overlap the compile. Whatever this could not install is tried again, one script at a time,
# before the client jobs start (two jobs must not install into one virtualenv at once).
mkdir -p target
install_deps() { # install_deps <script>: its INSTALL_ONLY=1 pass
  local args=()
  [[ "$1" == scripts/bench.sh ]] && args=(--smoke)
  INSTALL_ONLY=1 timeout 900 "$1" "${args[@]}"
}
(
  for script in tests/clients/run_{socialcore,entra,ldap,idp,okta_import,okta_sdk,service_app,jwt_verifiers,spa,openid_client,console,schemathesis,metrics,multi_node,webauthn,forward_auth,lifecycle,logout,apache}.sh scripts/bench.sh; do
    echo "== $script"
    install_deps "$script" || echo "== install failed: $script"
  done
) >target/client-deps.log 2>&1 &
DEPS_PID=$!
wait_for_client_deps() {
  [[ -z "${DEPS_PID:-}" ]] && return 0
  printf 'waiting for the background installs... '
  wait "$DEPS_PID" || true
  DEPS_PID=""
  echo "done ($(grep -c '^== install failed' target/client-deps.log || true) failed; see target/client-deps.log)"
  local script
  for script in $(sed -n 's/^== install failed: //p' target/client-deps.log); do
    echo "installing again: $script"
    install_deps "$script" || echo "still failing (its jobs will say why): $script"
  done
}
trap '[[ -n "${DEPS_PID:-}" ]] && kill "$DEPS_PID" 2>/dev/null || true' EXIT

step "cargo fmt --check"
cargo fmt --all -- --check

step "gatehouse-core: no module import cycles (scripts/check_module_cycles.py)"
python3 scripts/check_module_cycles.py

# Clippy lints while the tests compile: clippy-driver is rustc with Clippy's lints, and as
# cargo's wrapper for the workspace's own crates (what `cargo clippy` itself does, over `cargo
# check`) it lints every target `cargo test` builds (libraries, binaries, unit and integration
# tests; there are no examples or benches) while compiling it. The dependencies are then
# compiled once, not once for `cargo clippy` and again for the tests: about 6 minutes less from
# a clean clone. Same lints as `cargo clippy --workspace --all-targets -- -D warnings`.
if command -v clippy-driver >/dev/null; then
  step "cargo clippy -D warnings, in the same compile as the Rust tests' build"
  export RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver)"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" # cargo-clippy's encoding of `-- -D warnings`
  cargo test --workspace --locked --no-run
else
  step "cargo clippy -D warnings"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

# The binary the client tests run is the one `cargo test` built for the integration tests (a
# separate `cargo build -p gatehouse` would unify dependency features without the dev-
# dependencies and rebuild some fifty crates).
export GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/gatehouse"
[[ -x "$GATEHOUSE_BIN" ]] || { echo "cargo test did not leave $GATEHOUSE_BIN" >&2; exit 1; }
wait_for_client_deps

# The Rust tests and the real clients, two jobs at a time (tests/clients/lib/jobs.sh): the Rust
# tests are one job, each client suite's SQLite and PostgreSQL halves are two (every job starts
# its own servers on ports the kernel picks and makes its own databases or schemas), longest
# first. The client jobs mostly wait (on a browser, a server, the database), so they fill the
# time the other job leaves the cores idle. Each job's time is printed when it ends, and a
# failed job's log; the logs stay in target/test-logs/.
source tests/clients/lib/jobs.sh
jobs_init "${CARGO_TARGET_DIR:-$PWD/target}/test-logs"
trap 'jobs_kill; [[ -n "${DEPS_PID:-}" ]] && kill "$DEPS_PID" 2>/dev/null || true' EXIT
# suite <run_X.sh> <what it proves>: one job per backend.
suite() {
  local script="$1" what="$2" name backend
  name="${script#run_}"
  name="${name%.sh}"
  for backend in sqlite postgres; do
    job "$name-$backend" "$what, on $backend" env GATEHOUSE_TEST_BACKENDS="$backend" "tests/clients/$script"
  done
}
# The social-auth-core suites run each version on each backend as a job (four harness runs each).
social_core_jobs() {
  local script="$1" what="$2" name backend version
  name="${script#run_}"
  name="${name%.sh}"
  for version in 5.1.0 7.x; do
    for backend in sqlite postgres; do
      job "$name-$version-$backend" "$what (social-auth-core $version), on $backend" \
        env GATEHOUSE_TEST_BACKENDS="$backend" SOCIAL_CORE_VERSIONS="$version" "tests/clients/$script"
    done
  done
}

step "Rust tests and real clients, two jobs at a time (logs: target/test-logs/)"
# Six test threads, not one per core: the flow tests mostly wait on fsync, the database and
# loopback HTTP (a full run used ~1.2 cores at 6 threads, and took 219 s instead of ~19 min).
job rust "Rust tests (unit, storage contract and flow tests, the conformance replica, on SQLite and PostgreSQL): cargo test --workspace, 6 test threads" \
  env RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}" cargo test --workspace --locked
suite run_console.sh "real client: the admin console in headless Chromium following seeds 000, 003 and 004, then social-auth-core with the credentials read off it; Settings > Import from Okta"
suite run_okta_import.sh "real clients: gatehouse import okta from a second gatehouse playing the source org (300 users with paging, apps, a custom server, trusted origins), then social-auth-core 7.x signs in with the source's client id, secret and password (migrated once)"
suite run_schemathesis.sh "schemathesis against the served OpenAPI document (/api/v1/openapi.json)"
suite run_okta_sdk.sh "real clients: Okta's management SDKs (python okta 3.x, @okta/okta-sdk-nodejs 8.x)"
social_core_jobs run_socialcore.sh "real client: python-social-auth (NetBox's Okta backend)"
suite run_service_app.sh "real clients: service apps (openmetadata-ingestion's Okta flow with PyJWT; the real openmetadata-ingestion 1.2.5.3 OktaAuthenticationProvider over TLS; okta 3.x and okta-sdk-nodejs 8.x in PrivateKey mode)"
suite run_lifecycle.sh "real clients: email, activation and password recovery (an aiosmtpd SMTP server on loopback gets the mails; headless Chromium follows the activation and reset links under a password policy; social-auth-core signs in with the new password; okta 3.x activate_user/reset_password with send_email=False)"
suite run_spa.sh "real client: an OpenMetadata-style SPA (@okta/okta-auth-js 7.x and 8.x in headless Chromium)"
suite run_cross_site_logout.sh "real client: okta-auth-js 7.x and 8.x cross-site logout in headless Chromium (SPA on https://localhost, gatehouse on https://127.0.0.1 with built-in TLS: closeSession ends the session, __Host-gh_sid Secure SameSite=None; over plain http the SameSite=Lax cookie stays home and the session survives)"
suite run_idp.sh "real clients: upstream OpenID Connect identity provider (panva oidc-provider 8.x on loopback as the upstream; social-auth-core 7.x signs in through gatehouse → upstream → back: JIT provisioning with mapped attributes and groups, profile update, idp= and email-domain routing; okta 3.x reads /api/v1/idps)"
social_core_jobs run_entra.sh "real client: python-social-auth's Azure AD backends (azuread-oauth2, -tenant-, -v2, v2-tenant) on the Entra-compatible paths over built-in TLS"
suite run_webauthn.sh "real client: passkeys (WebAuthn) in headless Chromium with a virtual authenticator: enrolled on the dashboard, then password + passkey, and okta-auth-js 7.x tokens whose amr has hwk and mfa"
suite run_logout.sh "real clients: the session kill switch and back-channel logout (python okta 3.x clears a user's sessions with oauthTokens=true; a node receiver verifying logout tokens with jose gets one on the kill switch, RP-initiated logout and DELETE /api/v1/sessions/me)"
suite run_jwt_verifiers.sh "real clients: JWT verifiers (@okta/jwt-verifier 4.x, python okta-jwt-verifier) over built-in TLS"
suite run_openid_client.sh "real client: openid-client 5.x (npm) for the implicit, hybrid and form_post flows, the device grant, and client_credentials with introspection and revocation"
suite run_apache.sh "real client: Debian's Apache with mod_auth_openidc 2.4 (generic OIDC lines): an assigned person signs in, an unassigned one sees Gatehouse's access_denied (no iss on error responses unless RFC 9207 is set) and is in the System Log"
suite run_forward_auth.sh "real proxies: Debian's nginx auth_request and Caddy forward_auth in front of a stub app with /forward-auth/v1/verify (identity and NetBox headers, a group change on the next request, sign-out)"
suite run_metrics.sh "Prometheus metrics and the JSON access log: promtool check metrics, prometheus_client counters after a scripted flow"
suite run_ldap.sh "real client: LDAP delegated sign-in (a throw-away slapd seeded with ldapadd; social-auth-core 7.x signs in a directory user, groups sync, wrong password, filter injection, gatehouse ldap sync deactivates, directory outage)"
# Timing-sensitive (kill -9, a PostgreSQL restart with 2 s and 5 s bounds; the benchmark pins
# its server and load generator to one core each): nothing else runs beside them.
job --alone multi_node "multi-node: two gatehouse processes on one PostgreSQL database (sign-in, revocation, deactivation, new apps and key rotation across nodes), kill -9 mid-sign-in and under write load on PostgreSQL and SQLite, simultaneous first start, PostgreSQL restarted under load on a throw-away cluster" \
  tests/clients/run_multi_node.sh
job --alone bench_smoke "benchmark smoke: scripts/bench.sh --smoke (the debug binary, every scenario for 2 s on SQLite, no errors allowed; smoke figures mean nothing), then the cost curve's smoke (1k seeded users on SQLite, every query once; BENCHMARKS.md \"Cost curve\")" \
  bash -c 'timeout 900 scripts/bench.sh --smoke && timeout 300 scripts/bench.sh --cost --smoke'
jobs_run 2

step "all tests passed"
