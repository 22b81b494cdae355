# Shared by the real-client test scripts: start a throwaway gatehouse on 127.0.0.1:<random port>
# with its own data directory (and, for PostgreSQL, its own database), and stop it again.
#
#   source tests/clients/lib/serve.sh
#   gh_start <sqlite|postgres> [NAME=VALUE ...]   # sets gh_url, gh_work, gh_global, gh_log
#   gh_start_tls <sqlite|postgres> [NAME=VALUE ...]
#                       # the same over https with a `gatehouse dev-cert` certificate: gh_url is
#                       # https://127.0.0.1:<port> and gh_ca the dev CA to trust
#   gh_token <name>                               # prints a new API token
#   gh_new_database <label>  # a fresh PostgreSQL database for a harness that starts its own
#                            # gatehouse: sets gh_database_url; gh_stop drops it
#   gh_stop                                       # kills the server, drops its database(s)
#   free_port                # a free loopback port for a server that cannot bind port 0 itself
#
# Only the options given here configure the server: `env` drops every GATEHOUSE_* variable of
# the caller, then sets the NAME=VALUE pairs given to gh_start.

gh_bin="${GATEHOUSE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/target/debug/gatehouse}"
gh_pg=(psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt)
gh_pid=""
gh_db=""
gh_work=""
gh_url=""
gh_log=""
gh_global=()
gh_tls=0
gh_ca=""
gh_database_url=""
gh_extra_dbs=()

gh_env() {
  local cmd=(env) name
  while IFS= read -r name; do cmd+=(-u "$name"); done < <(env | sed -n 's/^\(GATEHOUSE_[A-Za-z0-9_]*\)=.*/\1/p')
  printf '%s\0' "${cmd[@]}" NO_COLOR=1
}

gh_start() {
  local backend="$1"; shift
  local envcmd=()
  while IFS= read -r -d '' part; do envcmd+=("$part"); done < <(gh_env)
  [[ -x "$gh_bin" ]] || { echo "gatehouse binary not found at $gh_bin (build it, or set GATEHOUSE_BIN)"; return 2; }
  gh_work="$(mktemp -d)"
  gh_global=(--data-dir "$gh_work/data")
  case "$backend" in
    sqlite) ;;
    postgres)
      gh_db="gatehouse_client_$$_${RANDOM}"
      "${gh_pg[@]}" -c "CREATE DATABASE \"$gh_db\"" >/dev/null || { echo "cannot create database $gh_db"; gh_db=""; return 1; }
      gh_global+=(--database-url "postgres://postgres@127.0.0.1:5432/$gh_db")
      ;;
    *) echo "unknown backend $backend"; return 1 ;;
  esac
  gh_log="$gh_work/serve.log"
  local tls_args=()
  if [[ "$gh_tls" == 1 ]]; then
    "${envcmd[@]}" "$gh_bin" "${gh_global[@]}" dev-cert </dev/null >"$gh_work/dev-cert.txt" 2>&1 ||
      { echo "gatehouse dev-cert failed:"; cat "$gh_work/dev-cert.txt"; return 1; }
    gh_ca="$gh_work/data/dev-ca.pem"
    tls_args=(--tls-cert "$gh_work/data/dev-cert.pem" --tls-key "$gh_work/data/dev-key.pem")
  fi
  "${envcmd[@]}" "$@" "$gh_bin" "${gh_global[@]}" serve --bind 127.0.0.1:0 "${tls_args[@]}" </dev/null >"$gh_log" 2>&1 &
  gh_pid=$!
  local port="" _ scheme=http
  [[ "$gh_tls" == 1 ]] && scheme=https
  for _ in $(seq 1 600); do
    port="$(sed -nE "s/.*listening on $scheme:\/\/127\.0\.0\.1:([0-9]+).*/\1/p" "$gh_log" | head -n1)"
    [[ -n "$port" ]] && break
    kill -0 "$gh_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "gatehouse serve did not start:"; tail -n 30 "$gh_log"
    return 1
  fi
  gh_url="$scheme://127.0.0.1:$port"
}

gh_start_tls() {
  gh_tls=1
  gh_start "$@"
  local rc=$?
  gh_tls=0
  return "$rc"
}

gh_token() {
  local envcmd=()
  while IFS= read -r -d '' part; do envcmd+=("$part"); done < <(gh_env)
  timeout 60 "${envcmd[@]}" "$gh_bin" "${gh_global[@]}" token create --name "$1" --output json </dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

gh_new_database() {
  local db="gatehouse_${1}_$$_${RANDOM}"
  "${gh_pg[@]}" -c "CREATE DATABASE \"$db\"" >/dev/null || { echo "cannot create database $db"; return 1; }
  gh_extra_dbs+=("$db")
  gh_database_url="postgres://postgres@127.0.0.1:5432/$db"
}

gh_stop() {
  if [[ -n "$gh_pid" ]]; then
    kill "$gh_pid" 2>/dev/null
    wait "$gh_pid" 2>/dev/null
    gh_pid=""
  fi
  if [[ -n "$gh_db" ]]; then
    "${gh_pg[@]}" -c "DROP DATABASE IF EXISTS \"$gh_db\" WITH (FORCE)" >/dev/null || echo "warning: could not drop database $gh_db"
    gh_db=""
  fi
  local db
  for db in "${gh_extra_dbs[@]}"; do
    "${gh_pg[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || echo "warning: could not drop database $db"
  done
  gh_extra_dbs=()
  [[ -n "$gh_work" ]] && rm -rf "$gh_work"
  gh_work=""
  gh_ca=""
}

# Below the kernel's ephemeral range: bind(0) and outgoing connections (of this suite, of a suite
# running beside it) take their ports from that range, so a port picked here and handed to slapd,
# nginx or Apache a moment later is not taken in between. Random, and checked free.
free_port() {
  python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(max(1024, low - 12000), low)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("no free port")
PY
}
