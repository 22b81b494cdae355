#!/usr/bin/env bash
# LDAP delegated sign-in, proven against a real OpenLDAP: a throw-away slapd (Debian's slapd,
# started here as the current user on a loopback port, with its own config and database in a
# temporary directory, killed at exit; simple binds only over TLS, StartTLS and ldaps with a
# CA made by `gatehouse dev-cert`) seeded with ldap/seed.ldif, and gatehouse with [ldap]
# pointing at it over StartTLS. tests/clients/ldap/harness.py then drives social-auth-core (the socialcore
# venv and RP code) through: a directory user's first sign-in (JIT, mapped attributes, two
# groups), profile and group updates on the next sign-in, a wrong password, an injection
# attempt, `gatehouse ldap sync` deactivating a user removed from the directory, and a
# directory outage (a clear error, local users unaffected). Once per backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
run_timeout=600
export PYTHONDONTWRITEBYTECODE=1

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"

ensure_slapd() {
  [[ -x /usr/sbin/slapd && -x /usr/bin/ldapadd ]] && return 0
  echo "installing Debian's slapd and ldap-utils (apt-get)"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slapd ldap-utils)
  ("${apt[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && "${apt[@]}" >/dev/null; }) || return 1
  [[ -x /usr/sbin/slapd && -x /usr/bin/ldapadd ]]
}

venv="$root/.venv-sc7"
ensure_slapd || { echo "FAIL: cannot install slapd/ldap-utils"; exit 2; }
ensure_venv "$venv" 'import requests, social_core; raise SystemExit(0 if social_core.__version__.split(".")[0] == "7" else 1)' \
  'social-auth-core>=7,<8' requests || { echo "FAIL: cannot set up $venv"; exit 2; }
exit_if_install_only
if [[ ! -x "$bin" ]]; then
  echo "FAIL: gatehouse binary not found at $bin (build it, or set GATEHOUSE_BIN)"
  exit 2
fi

# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-ldap-XXXXXX")"
slapd_pid=""
stop_slapd() {
  if [[ -n "$slapd_pid" ]] && kill -0 "$slapd_pid" 2>/dev/null; then
    kill "$slapd_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$slapd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$slapd_pid" 2>/dev/null
  fi
  slapd_pid=""
}
cleanup() {
  stop_slapd
  gh_stop # drops the databases of gh_new_database
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

admin_pw="Admin-Passw0rd"
# Starts a fresh slapd (new config and database under $1) on a free loopback port; sets
# $ldap_url and $slapd_pid. slapd runs in the foreground (-d 0) in the background of this
# shell, bounded by `timeout`, as whoever runs this script.
start_slapd() {
  local dir="$1" port tls_port
  port="$(free_port)"
  tls_port="$(free_port)"
  mkdir -p "$dir/db" "$dir/certs"
  # A CA and a certificate for 127.0.0.1 (gatehouse's own dev-cert): slapd serves StartTLS
  # and ldaps with them, and gatehouse trusts the CA through tls_ca_file.
  "$bin" --data-dir "$dir/certs" dev-cert --out-dir "$dir/certs" >/dev/null || { echo "dev-cert failed"; return 1; }
  ca_file="$dir/certs/dev-ca.pem"
  cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw $admin_pw
directory $dir/db
# Simple binds only over TLS: a gatehouse that skipped StartTLS could not bind at all.
security simple_bind=128
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
TLSCACertificateFile $ca_file
TLSCertificateFile $dir/certs/dev-cert.pem
TLSCertificateKeyFile $dir/certs/dev-key.pem
CONF
  ldap_url="ldap://127.0.0.1:$port"
  ldaps_url="ldaps://127.0.0.1:$tls_port"
  timeout --foreground 900 /usr/sbin/slapd -f "$dir/slapd.conf" -h "$ldap_url/ $ldaps_url/" -d 0 >"$dir/slapd.log" 2>&1 &
  slapd_pid=$!
  export LDAPTLS_CACERT="$ca_file"
  local _
  for _ in $(seq 100); do
    ldapsearch -x -ZZ -H "$ldap_url" -D "cn=admin,dc=example,dc=org" -w "$admin_pw" -b "" -s base >/dev/null 2>&1 && break
    kill -0 "$slapd_pid" 2>/dev/null || { echo "slapd exited:"; cat "$dir/slapd.log"; return 1; }
    sleep 0.1
  done
  ldapadd -x -ZZ -H "$ldap_url" -D "cn=admin,dc=example,dc=org" -w "$admin_pw" -f "$here/ldap/seed.ldif" >/dev/null ||
    { echo "ldapadd failed"; cat "$dir/slapd.log"; return 1; }
}

summary=()
failed=0
for backend in $backends; do
  db_args=()
  case "$backend" in
    sqlite) ;;
    postgres)
      if ! gh_new_database ldap; then
        summary+=("ldap / $backend: FAILED (could not create a database)")
        failed=1
        continue
      fi
      db_args=(--database-url "$gh_database_url")
      ;;
    *)
      summary+=("ldap / $backend: FAILED (unknown backend)")
      failed=1
      continue
      ;;
  esac
  dir="$work/$backend"
  if ! start_slapd "$dir/slapd"; then
    summary+=("ldap / $backend: FAILED (slapd did not start)")
    failed=1
    stop_slapd
    continue
  fi
  echo
  log="$(mktemp)"
  timeout --foreground "$run_timeout" "$venv/bin/python" "$here/ldap/harness.py" --gatehouse "$bin" "${db_args[@]}" \
    --work "$dir" --ldap-url "$ldap_url" --ldaps-url "$ldaps_url" --ca-file "$ca_file" --slapd-pid "$slapd_pid" --admin-password "$admin_pw" "$@" 2>&1 | tee "$log"
  status="${PIPESTATUS[0]}"
  passed="$(sed -nE 's/^RESULT ([0-9]+\/[0-9]+) .*/\1/p' "$log" | tail -n1)"
  rm -f "$log"
  stop_slapd
  if [[ "$status" == 0 ]]; then
    summary+=("ldap / $backend: $passed scenarios passed")
  else
    summary+=("ldap / $backend: FAILED, ${passed:-no result} scenarios passed (exit $status)")
    failed=1
  fi
done

echo
echo "== ldap summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "ldap: FAILED"
  exit 1
fi
echo "ldap: all passed"
