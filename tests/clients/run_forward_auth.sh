#!/usr/bin/env bash
# Forward auth in front of real reverse proxies, once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}: Debian's nginx with `auth_request`, and Debian's
# Caddy with `forward_auth`, ask /forward-auth/v1/verify for every request to a stub app (a
# second server block of the same proxy that answers with the identity headers it received).
# For each proxy it checks, with curl as the browser:
#   signed out                 -> 302 to Gatehouse's /forward-auth/v1/signin (rd = the page)
#   signed in on the hosted    -> the stub sees Remote-User, Remote-Email, Remote-Groups and
#   form                          NetBox's Remote-User-Group (a spoofed Remote-User is replaced)
#   a group added on the CLI   -> shows on the next request
#   signed out again           -> 302 to the sign-in again
# Each proxy runs as the current user on loopback ports, with its own config and temp paths
# (forward_auth/nginx.conf.in, forward_auth/Caddyfile.in), in the foreground in the background,
# and is killed at exit.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs Debian's nginx-light and caddy (apt-get, noninteractive) when missing.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_nginx || { echo "FAIL: cannot install Debian's nginx"; exit 2; }
ensure_caddy || { echo "FAIL: cannot install Debian's caddy"; exit 2; }
exit_if_install_only

proxy_pid=""
proxy_dir=""
stop_proxy() {
  if [[ -n "$proxy_pid" ]]; then
    kill "$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
    proxy_pid=""
  fi
  [[ -n "$proxy_dir" ]] && rm -rf "$proxy_dir"
  proxy_dir=""
}
stop_all() {
  stop_proxy
  gh_stop
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_proxy <nginx|caddy> <gatehouse url> <proxy port> <stub port>
start_proxy() {
  local kind="$1" gh="$2" port="$3" stub="$4" user_line=""
  proxy_dir="$(mktemp -d)"
  mkdir -p "$proxy_dir/tmp" "$proxy_dir/logs"
  case "$kind" in
    nginx)
      # As root the workers would drop to nobody; keep them as the current user.
      [[ "$(id -u)" == 0 ]] && user_line="user $(id -un);"
      sed -e "s|@USER@|$user_line|" -e "s|@DIR@|$proxy_dir|g" -e "s|@GATEHOUSE@|$gh|g" \
        -e "s|@PORT@|$port|g" -e "s|@STUB@|$stub|g" "$here/forward_auth/nginx.conf.in" >"$proxy_dir/nginx.conf"
      nginx -p "$proxy_dir" -c "$proxy_dir/nginx.conf" -e "$proxy_dir/logs/error.log" \
        >"$proxy_dir/logs/stdout.log" 2>&1 &
      ;;
    caddy)
      sed -e "s|@GATEHOUSE@|$gh|g" -e "s|@PORT@|$port|g" -e "s|@STUB@|$stub|g" \
        "$here/forward_auth/Caddyfile.in" >"$proxy_dir/Caddyfile"
      # Caddy keeps its state under $HOME and XDG dirs: point them at the throw-away dir.
      HOME="$proxy_dir" XDG_DATA_HOME="$proxy_dir/tmp" XDG_CONFIG_HOME="$proxy_dir/tmp" \
        caddy run --config "$proxy_dir/Caddyfile" --adapter caddyfile >"$proxy_dir/logs/error.log" 2>&1 &
      ;;
  esac
  proxy_pid=$!
  local _
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$stub/" && return 0
    kill -0 "$proxy_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$kind did not start:"; cat "$proxy_dir/logs/"*.log
  return 1
}

# The sign-in address a signed-out browser is sent to. nginx builds it in its config (rd as
# is); Caddy hands on verify's own 302 (redirect=true), whose rd is form-encoded.
signin_for() { # signin_for <nginx|caddy> <page URL>
  if [[ "$1" == nginx ]]; then
    printf '%s' "$gh_url/forward-auth/v1/signin?rd=$2"
  else
    printf '%s' "$gh_url/forward-auth/v1/signin?$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode({"rd": sys.argv[1]}))' "$2")"
  fi
}

check() { # check <description> <condition command...>
  local what="$1"; shift
  if "$@"; then echo "  ok: $what"; else echo "  FAIL: $what"; errors=$((errors + 1)); fi
}

hidden() { # hidden <html file> <name>: the value of a hidden input, HTML-unescaped
  python3 - "$1" "$2" <<'PY'
import html, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'name="%s" value="([^"]*)"' % re.escape(sys.argv[2]), page)
print(html.unescape(m.group(1)) if m else "")
PY
}

summary=()
failed=0
for backend in $backends; do
  echo
  echo "== forward auth on $backend"
  if ! gh_start "$backend"; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; stop_all; continue
  fi
  cli=("$gh_bin" "${gh_global[@]}")
  work="$gh_work"
  "${cli[@]}" group add --name netbox-ops >/dev/null && "${cli[@]}" group add --name netbox-admins >/dev/null ||
    { summary+=("$backend: FAILED (groups)"); failed=1; stop_all; continue; }
  token="$(gh_token forward-auth-tests)"
  for kind in nginx caddy; do
    echo "-- $kind"
    errors=0
    # A user of its own per proxy, so each starts in netbox-ops only.
    login="fiona.$kind@example.com"
    echo "fa-test-password-1" | "${cli[@]}" user add --login "$login" --email "$login" \
      --first-name Fiona --last-name Forward --password-stdin >/dev/null || errors=$((errors + 1))
    "${cli[@]}" group add-member --group netbox-ops --user "$login" >/dev/null || errors=$((errors + 1))
    port="$(free_port)"; stub="$(free_port)"
    proxy="http://127.0.0.1:$port"
    curl -sf -o /dev/null -X POST "$gh_url/api/v1/trustedOrigins" -H "Authorization: SSWS $token" \
      -H 'Content-Type: application/json' \
      -d "{\"name\":\"$kind\",\"origin\":\"$proxy\",\"scopes\":[{\"type\":\"REDIRECT\"}]}" ||
      { echo "  cannot add the trusted origin"; errors=$((errors + 1)); }
    if ! start_proxy "$kind" "$gh_url" "$port" "$stub"; then
      summary+=("$backend, $kind: FAILED (did not start)"); failed=1; stop_proxy; continue
    fi
    jar="$work/cookies-$kind.txt"
    get() { curl -s -b "$jar" -c "$jar" -o "$work/body" -D "$work/headers" -w '%{http_code} %{redirect_url}' "$@"; }

    read -r code location < <(get "$proxy/dcim/devices/")
    check "signed out: 302 to the sign-in (got $code $location)" \
      test "$code" = 302 -a "$location" = "$(signin_for "$kind" "$proxy/dcim/devices/")"

    # Sign in through the hosted form, as a browser following the redirects would.
    read -r code to_form < <(get "$location")
    read -r code _ < <(get "$to_form")
    csrf="$(hidden "$work/body" csrf)"; from="$(hidden "$work/body" fromURI)"
    read -r code back < <(get "$gh_url/login/login.htm" --data-urlencode "csrf=$csrf" --data-urlencode "fromURI=$from" \
      --data-urlencode "username=$login" --data-urlencode password=fa-test-password-1)
    check "the sign-in form accepts the password (got $code)" test "$code" = 303
    read -r code back < <(get "$back")
    check "signed in: back to the page asked for (got $code $back)" test "$code" = 302 -a "$back" = "$proxy/dcim/devices/"

    read -r code _ < <(get -H 'Remote-User: mallory' "$back")
    body="$(cat "$work/body")"
    check "the stub gets 200 through $kind (got $code)" test "$code" = 200
    check "Remote-User is the login, not the spoofed header" grep -qx "remote_user=$login" <<<"$body"
    check "Remote-Email" grep -qx "remote_email=$login" <<<"$body"
    check "Remote-Name" grep -qx 'remote_name=Fiona Forward' <<<"$body"
    check "Remote-Groups" grep -qx 'remote_groups=netbox-ops' <<<"$body"
    check "NetBox's group header" grep -qx 'remote_user_group=netbox-ops' <<<"$body"

    read -r code _ < <(get -X POST --data 'name=rack-1' "$proxy/dcim/racks/add/")
    check "a form POST through $kind passes too (got $code)" test "$code" = 200

    "${cli[@]}" group add-member --group netbox-admins --user "$login" >/dev/null || errors=$((errors + 1))
    read -r code _ < <(get "$proxy/dcim/devices/")
    body="$(cat "$work/body")"
    check "a new group shows on the next request" grep -qx 'remote_groups=netbox-admins,netbox-ops' <<<"$body"
    check "NetBox's group header lists both" grep -qx 'remote_user_group=netbox-admins|netbox-ops' <<<"$body"

    read -r code _ < <(get "$gh_url/forward-auth/v1/signout?rd=$proxy/")
    check "sign-out redirects back (got $code)" test "$code" = 302
    read -r code location < <(get "$proxy/dcim/devices/")
    check "signed out again: 302 to the sign-in (got $code)" \
      test "$code" = 302 -a "$location" = "$(signin_for "$kind" "$proxy/dcim/devices/")"

    if [[ "$errors" == 0 ]]; then summary+=("$backend, $kind: ok"); else
      summary+=("$backend, $kind: FAILED ($errors checks)"); failed=1
      echo "-- $kind log"; tail -n 20 "$proxy_dir/logs/error.log"
      echo "-- gatehouse log"; tail -n 20 "$gh_log"
    fi
    stop_proxy
  done
  stop_all
done

echo
echo "== forward auth (nginx auth_request, caddy forward_auth)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
