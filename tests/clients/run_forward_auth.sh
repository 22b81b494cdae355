#!/usr/bin/env bash
# Forward auth in front of a real reverse proxy, once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}: Debian's nginx with `auth_request` asks
# /forward-auth/v1/verify for every request to a stub app (a second nginx server block that
# answers with the identity headers it received). It checks, with curl as the browser:
#   signed out                 -> 302 to Gatehouse's /forward-auth/v1/signin (rd = the page)
#   signed in on the hosted    -> the stub sees Remote-User, Remote-Email, Remote-Groups and
#   form                          NetBox's Remote-User-Group (a spoofed Remote-User is replaced)
#   a group added on the CLI   -> shows on the next request
#   signed out again           -> 302 to the sign-in again
# The nginx runs as the current user on loopback ports, with its own prefix, config, pid and temp
# paths, in the foreground in the background, and is killed at exit.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs Debian's nginx-light (apt-get, noninteractive) when no nginx is on the machine.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_nginx || { echo "FAIL: cannot install Debian's nginx"; exit 2; }
exit_if_install_only

nginx_pid=""
nginx_dir=""
stop_all() {
  if [[ -n "$nginx_pid" ]]; then
    kill "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
    nginx_pid=""
  fi
  [[ -n "$nginx_dir" ]] && rm -rf "$nginx_dir"
  nginx_dir=""
  gh_stop
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start_nginx <gatehouse url> <proxy port> <stub port>
start_nginx() {
  local gh="$1" port="$2" stub="$3" user_line=""
  nginx_dir="$(mktemp -d)"
  mkdir -p "$nginx_dir/tmp" "$nginx_dir/logs"
  # As root the workers would drop to nobody; keep them as the current user.
  [[ "$(id -u)" == 0 ]] && user_line="user $(id -un);"
  sed -e "s|@USER@|$user_line|" -e "s|@DIR@|$nginx_dir|g" -e "s|@GATEHOUSE@|$gh|g" \
    -e "s|@PORT@|$port|g" -e "s|@STUB@|$stub|g" "$here/forward_auth/nginx.conf.in" >"$nginx_dir/nginx.conf"
  nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/logs/error.log" \
    >"$nginx_dir/logs/stdout.log" 2>&1 &
  nginx_pid=$!
  local _
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$stub/" && return 0
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "nginx did not start:"; cat "$nginx_dir/logs/"*.log
  return 1
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
  echo "== forward auth behind nginx on $backend"
  errors=0
  if ! gh_start "$backend"; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; stop_all; continue
  fi
  cli=("$gh_bin" "${gh_global[@]}")
  work="$gh_work"
  port="$(free_port)"; stub="$(free_port)"
  proxy="http://127.0.0.1:$port"
  echo "fa-test-password-1" | "${cli[@]}" user add --login fiona@example.com --email fiona@example.com \
    --first-name Fiona --last-name Forward --password-stdin >/dev/null || errors=$((errors + 1))
  "${cli[@]}" group add --name netbox-ops >/dev/null && "${cli[@]}" group add --name netbox-admins >/dev/null &&
    "${cli[@]}" group add-member --group netbox-ops --user fiona@example.com >/dev/null || errors=$((errors + 1))
  token="$(gh_token forward-auth-tests)"
  curl -sf -o /dev/null -X POST "$gh_url/api/v1/trustedOrigins" -H "Authorization: SSWS $token" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"nginx\",\"origin\":\"$proxy\",\"scopes\":[{\"type\":\"REDIRECT\"}]}" ||
    { echo "  cannot add the trusted origin"; errors=$((errors + 1)); }
  if ! start_nginx "$gh_url" "$port" "$stub"; then
    summary+=("$backend: FAILED (nginx did not start)"); failed=1; stop_all; continue
  fi
  jar="$work/cookies.txt"
  get() { curl -s -b "$jar" -c "$jar" -o "$work/body" -D "$work/headers" -w '%{http_code} %{redirect_url}' "$@"; }

  read -r code location < <(get "$proxy/dcim/devices/")
  check "signed out: 302 to the sign-in (got $code $location)" \
    test "$code" = 302 -a "$location" = "$gh_url/forward-auth/v1/signin?rd=$proxy/dcim/devices/"

  # Sign in through the hosted form, as a browser following the redirects would.
  read -r code to_form < <(get "$location")
  read -r code _ < <(get "$to_form")
  csrf="$(hidden "$work/body" csrf)"; from="$(hidden "$work/body" fromURI)"
  read -r code back < <(get "$gh_url/login/login.htm" --data-urlencode "csrf=$csrf" --data-urlencode "fromURI=$from" \
    --data-urlencode username=fiona@example.com --data-urlencode password=fa-test-password-1)
  check "the sign-in form accepts the password (got $code)" test "$code" = 303
  read -r code back < <(get "$back")
  check "signed in: back to the page asked for (got $code $back)" test "$code" = 302 -a "$back" = "$proxy/dcim/devices/"

  read -r code _ < <(get -H 'Remote-User: mallory' "$back")
  body="$(cat "$work/body")"
  check "the stub gets 200 through nginx (got $code)" test "$code" = 200
  check "Remote-User is the login, not the spoofed header" grep -qx 'remote_user=fiona@example.com' <<<"$body"
  check "Remote-Email" grep -qx 'remote_email=fiona@example.com' <<<"$body"
  check "Remote-Name" grep -qx 'remote_name=Fiona Forward' <<<"$body"
  check "Remote-Groups" grep -qx 'remote_groups=netbox-ops' <<<"$body"
  check "NetBox's group header" grep -qx 'remote_user_group=netbox-ops' <<<"$body"

  read -r code _ < <(get -X POST --data 'name=rack-1' "$proxy/dcim/racks/add/")
  check "a form POST through nginx passes too (auth_request keeps the method; got $code)" test "$code" = 200

  "${cli[@]}" group add-member --group netbox-admins --user fiona@example.com >/dev/null || errors=$((errors + 1))
  read -r code _ < <(get "$proxy/dcim/devices/")
  body="$(cat "$work/body")"
  check "a new group shows on the next request" grep -qx 'remote_groups=netbox-admins,netbox-ops' <<<"$body"
  check "NetBox's group header lists both" grep -qx 'remote_user_group=netbox-admins|netbox-ops' <<<"$body"

  read -r code _ < <(get "$gh_url/forward-auth/v1/signout?rd=$proxy/")
  check "sign-out redirects back (got $code)" test "$code" = 302
  read -r code location < <(get "$proxy/dcim/devices/")
  check "signed out again: 302 to the sign-in (got $code)" \
    test "$code" = 302 -a "$location" = "$gh_url/forward-auth/v1/signin?rd=$proxy/dcim/devices/"

  if [[ "$errors" == 0 ]]; then summary+=("$backend: ok"); else
    summary+=("$backend: FAILED ($errors checks)"); failed=1
    echo "-- nginx error log"; tail -n 20 "$nginx_dir/logs/error.log"
    echo "-- gatehouse log"; tail -n 20 "$gh_log"
  fi
  stop_all
done

echo
echo "== forward auth (nginx auth_request)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
