# Shared by run_socialcore.sh and run_entra.sh: run a social-auth-core harness (it starts its own
# gatehouse) with social-auth-core 5.1.0 (NetBox 4.7's pin) and the latest 7.x, once per database
# backend, and print a summary.
#
#   source tests/clients/lib/social_core.sh
#   social_core_suite <suite name> <harness.py> [harness arguments...]
#
# Environment:
#   GATEHOUSE_BIN            the gatehouse binary (default: target/debug/gatehouse)
#   GATEHOUSE_TEST_BACKENDS  default "sqlite postgres"
#   SOCIAL_CORE_VERSIONS     default "5.1.0 7.x" (scripts/test.sh runs each as a job of its own)
#   INSTALL_ONLY=1           set up the virtualenvs and stop

_sc_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deps.sh
source "$_sc_lib/deps.sh"

# The venv's social_core.__version__ must satisfy the Python expression $1 (in terms of v).
social_core_probe() {
  echo "import pyotp, requests, social_core; v = social_core.__version__; raise SystemExit(0 if ($1) else 1)"
}

social_core_suite() {
  local suite="$1" harness="$2"; shift 2
  local root bin backends versions run_timeout=900 # per harness run; the harness bounds each step too
  root="$(cd "$_sc_lib/../../.." && pwd)"
  bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
  backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
  versions="${SOCIAL_CORE_VERSIONS:-5.1.0 7.x}"
  export PYTHONDONTWRITEBYTECODE=1 # keep __pycache__ out of the source tree

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

  # shellcheck source=serve.sh
  source "$_sc_lib/serve.sh"
  trap gh_stop EXIT
  trap 'exit 130' INT TERM

  local summary=() failed=0 version backend python db_args log status passed label
  for version in $versions; do
    python="${venvs[$version]:-}"
    if [[ -z "$python" ]]; then
      summary+=("social-core $version: FAILED (unknown version; 5.1.0 or 7.x)"); failed=1; continue
    fi
    python="$python/bin/python"
    for backend in $backends; do
      db_args=()
      case "$backend" in
        sqlite) ;; # gatehouse's default: SQLite inside the (temporary) data dir
        postgres)
          gh_new_database "${suite}_${version//./}" || {
            summary+=("social-core $version / $backend: FAILED (could not create a database)"); failed=1; continue
          }
          db_args=(--database-url "$gh_database_url")
          ;;
        *)
          summary+=("social-core $version / $backend: FAILED (unknown backend)"); failed=1; continue
          ;;
      esac

      echo
      log="$(mktemp)"
      timeout --foreground "$run_timeout" "$python" "$harness" --gatehouse "$bin" "${db_args[@]}" "$@" 2>&1 | tee "$log"
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
      gh_stop
    done
  done

  echo
  echo "== $suite summary"
  printf '%s\n' "${summary[@]}"
  if [[ "$failed" != 0 ]]; then
    echo "$suite: FAILED"
    exit 1
  fi
  echo "$suite: all passed"
}
