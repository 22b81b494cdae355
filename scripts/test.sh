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
# overlap the compile. Each client's step below checks its dependencies again, and installs
# (and reports) whatever this could not.
mkdir -p target
(
  for script in tests/clients/run_{socialcore,entra,ldap,idp,okta_import,okta_sdk,service_app,jwt_verifiers,spa,openid_client,console,schemathesis,metrics,multi_node,webauthn,forward_auth,lifecycle,logout,apache}.sh scripts/bench.sh; do
    echo "== $script"
    args=()
    [[ "$script" == scripts/bench.sh ]] && args=(--smoke)
    INSTALL_ONLY=1 timeout 900 "$script" "${args[@]}" || echo "== $script: install failed (its step installs again)"
  done
) >target/client-deps.log 2>&1 &
DEPS_PID=$!
wait_for_client_deps() {
  [[ -z "${DEPS_PID:-}" ]] && return 0
  printf 'waiting for the background installs... '
  wait "$DEPS_PID" || true
  DEPS_PID=""
  echo "done ($(grep -c 'install failed' target/client-deps.log || true) failed; see target/client-deps.log)"
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

step "Rust tests (unit, storage contract and flow tests on SQLite and PostgreSQL)"
cargo test --workspace --locked

# The binary the client tests run is the one `cargo test` built for the integration tests (a
# separate `cargo build -p gatehouse` would unify dependency features without the dev-
# dependencies and rebuild some fifty crates).
export GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/gatehouse"
[[ -x "$GATEHOUSE_BIN" ]] || { echo "cargo test did not leave $GATEHOUSE_BIN" >&2; exit 1; }
wait_for_client_deps

step "real client: python-social-auth (social-auth-core 5.1.0 and 7.x) on SQLite and PostgreSQL"
tests/clients/run_socialcore.sh

step "real client: python-social-auth's Azure AD backends (azuread-oauth2, -tenant-, -v2, v2-tenant; social-auth-core 5.1.0 and 7.x) on the Entra-compatible paths over built-in TLS, on SQLite and PostgreSQL"
tests/clients/run_entra.sh

step "real client: LDAP delegated sign-in (a throw-away slapd seeded with ldapadd; social-auth-core 7.x signs in a directory user, groups sync, wrong password, filter injection, gatehouse ldap sync deactivates, directory outage) on SQLite and PostgreSQL"
tests/clients/run_ldap.sh

step "real clients: upstream OpenID Connect identity provider (panva oidc-provider 8.x on loopback as the upstream; social-auth-core 7.x signs in through gatehouse → upstream → back: JIT provisioning with mapped attributes and groups, profile update, idp= and email-domain routing; okta 3.x reads /api/v1/idps) on SQLite and PostgreSQL"
tests/clients/run_idp.sh

step "real clients: gatehouse import okta from a second gatehouse playing the source org (300 users with paging, apps, a custom server, trusted origins), then social-auth-core 7.x signs in with the source's client id, secret and password (migrated once) on SQLite and PostgreSQL"
tests/clients/run_okta_import.sh

step "real clients: Okta's management SDKs (python okta 3.x, @okta/okta-sdk-nodejs 8.x) on SQLite and PostgreSQL"
tests/clients/run_okta_sdk.sh

step "real clients: the session kill switch and back-channel logout (python okta 3.x clears a user's sessions with oauthTokens=true: refresh invalid_grant, access token inactive; a node receiver verifying logout tokens with jose gets one on the kill switch, RP-initiated logout and DELETE /api/v1/sessions/me) on SQLite and PostgreSQL"
tests/clients/run_logout.sh

step "real clients: service apps (openmetadata-ingestion's Okta flow with PyJWT; the real openmetadata-ingestion 1.2.5.3 OktaAuthenticationProvider over TLS; okta 3.x and okta-sdk-nodejs 8.x in PrivateKey mode) on SQLite and PostgreSQL"
tests/clients/run_service_app.sh

step "real clients: JWT verifiers (@okta/jwt-verifier 4.x, python okta-jwt-verifier) over built-in TLS on SQLite and PostgreSQL"
tests/clients/run_jwt_verifiers.sh

step "real client: an OpenMetadata-style SPA (@okta/okta-auth-js 7.x and 8.x in headless Chromium) on SQLite and PostgreSQL"
tests/clients/run_spa.sh

step "real client: okta-auth-js 7.x and 8.x cross-site logout in headless Chromium (SPA on https://localhost, gatehouse on https://127.0.0.1 with built-in TLS: closeSession ends the session, __Host-gh_sid Secure SameSite=None; over plain http the SameSite=Lax cookie stays home and the session survives) on SQLite and PostgreSQL"
tests/clients/run_cross_site_logout.sh

step "real client: passkeys (WebAuthn) in headless Chromium with a virtual authenticator: enrolled on the dashboard, then password + passkey, and okta-auth-js 7.x tokens whose amr has hwk and mfa, on SQLite and PostgreSQL"
tests/clients/run_webauthn.sh

step "real clients: email, activation and password recovery (an aiosmtpd SMTP server on loopback gets the mails; headless Chromium follows the activation and reset links, a short password refused then a good one accepted; social-auth-core signs in with it; okta 3.x activate_user/reset_password with send_email=False) on SQLite and PostgreSQL"
tests/clients/run_lifecycle.sh

step "real client: openid-client 5.x (npm) for the implicit, hybrid and form_post flows, and client_credentials with introspection and revocation, on SQLite and PostgreSQL"
tests/clients/run_openid_client.sh
step "real client: the admin console in headless Chromium following seeds 000 and 004, then social-auth-core with the credentials read off it, on SQLite and PostgreSQL"
tests/clients/run_console.sh

step "real proxies: Debian's nginx auth_request and Caddy forward_auth in front of a stub app with /forward-auth/v1/verify (identity and NetBox headers, a group change on the next request, sign-out) on SQLite and PostgreSQL"
tests/clients/run_forward_auth.sh

step "real client: Debian's Apache with mod_auth_openidc 2.4 (generic OIDC lines): an assigned person signs in, an unassigned one sees Gatehouse's access_denied (no iss on error responses unless RFC 9207 is set) and is in the System Log, on SQLite and PostgreSQL"
tests/clients/run_apache.sh

step "schemathesis against the served OpenAPI document (/api/v1/openapi.json) on SQLite and PostgreSQL"
tests/clients/run_schemathesis.sh

step "Prometheus metrics and the JSON access log: promtool check metrics, prometheus_client counters after a scripted flow, on SQLite and PostgreSQL"
tests/clients/run_metrics.sh

step "multi-node: two gatehouse processes on one PostgreSQL database (sign-in, revocation, deactivation, new apps and key rotation across nodes), kill -9 mid-sign-in and under write load on PostgreSQL and SQLite, simultaneous first start, PostgreSQL restarted under load on a throw-away cluster"
tests/clients/run_multi_node.sh

step "benchmark smoke: scripts/bench.sh --smoke (the debug binary, every scenario for 2 s on SQLite, no errors allowed; smoke figures mean nothing)"
timeout 900 scripts/bench.sh --smoke
timeout 300 scripts/bench.sh --cost --smoke  # the cost curve: 1k seeded users on SQLite, every query once (BENCHMARKS.md "Cost curve")

step "all tests passed"
