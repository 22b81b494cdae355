#!/usr/bin/env bash
# Full logins through python-social-auth's Azure AD backends (azuread-oauth2, azuread-tenant-oauth2,
# azuread-oauth2-v2, azuread-v2-tenant-oauth2, as NetBox uses them) against gatehouse's
# Entra-compatible paths, gatehouse serving https with a `gatehouse dev-cert` certificate.
#
# Runs tests/clients/entra/harness.py with social-auth-core 5.1.0 (NetBox 4.7's pin) and the
# latest 7.x, once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Extra arguments go to the harness, e.g. --verbose, --keep, --scenario azuread-oauth2.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
pg=(psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt)
run_timeout=900 # seconds per harness run; the harness bounds each step itself too
export PYTHONDONTWRITEBYTECODE=1 # keep __pycache__ out of the source tree

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"
# The venv's social_core.__version__ must satisfy the Python expression $1 (in terms of v).
social_core_probe() {
  echo "import pyotp, requests, social_core; v = social_core.__version__; raise SystemExit(0 if ($1) else 1)"
}

declare -A venvs=([5.1.0]="$root/.venv-sc51" [7.x]="$root/.venv-sc7")
ensure_venv "${venvs[5.1.0]}" "$(social_core_probe 'v == "5.1.0"')" 'social-auth-core==5.1.0' requests pyotp ||
  { echo "FAIL: cannot set up ${venvs[5.1.0]}"; exit 2; }
ensure_venv "${venvs[7.x]}" "$(social_core_probe 'v.split(".")[0] == "7"')" 'social-auth-core>=7,<8' requests pyotp ||
  { echo "FAIL: cannot set up ${venvs[7.x]}"; exit 2; }

exit_if_install_only
if [[ ! -x "$bin" ]]; then
  echo "FAIL: gatehouse binary not found at $bin (build it, or set GATEHOUSE_BIN)"
  exit 2
fi

created_dbs=()
drop_databases() {
  local db
  for db in "${created_dbs[@]}"; do
    "${pg[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || echo "warning: could not drop database $db"
  done
  created_dbs=()
}
trap drop_databases EXIT
trap 'exit 130' INT TERM

summary=()
failed=0
for version in 5.1.0 7.x; do
  python="${venvs[$version]}/bin/python"
  for backend in $backends; do
    db_args=()
    case "$backend" in
      sqlite) ;; # gatehouse's default: SQLite inside the (temporary) data dir
      postgres)
        db="gatehouse_entra_${version//./}_$$_${RANDOM}"
        if ! "${pg[@]}" -c "CREATE DATABASE \"$db\"" >/dev/null; then
          summary+=("social-core $version / $backend: FAILED (could not create database $db)")
          failed=1
          continue
        fi
        created_dbs+=("$db")
        db_args=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
        ;;
      *)
        summary+=("social-core $version / $backend: FAILED (unknown backend)")
        failed=1
        continue
        ;;
    esac

    echo
    log="$(mktemp)"
    timeout --foreground "$run_timeout" "$python" "$here/entra/harness.py" --gatehouse "$bin" "${db_args[@]}" "$@" 2>&1 | tee "$log"
    status="${PIPESTATUS[0]}"
    passed="$(sed -nE 's/^RESULT ([0-9]+\/[0-9]+) .*/\1/p' "$log" | tail -n1)"
    rm -f "$log"
    label="social-core $("$python" -c 'import social_core; print(social_core.__version__)') / $backend"
    if [[ "$status" == 0 ]]; then
      summary+=("$label: $passed scenarios passed")
    else
      summary+=("$label: FAILED, ${passed:-no result} scenarios passed (exit $status)")
      failed=1
    fi
    drop_databases
  done
done

echo
echo "== entra summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "entra: FAILED"
  exit 1
fi
echo "entra: all passed"
