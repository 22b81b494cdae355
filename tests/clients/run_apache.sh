#!/usr/bin/env bash
# Apache's mod_auth_openidc (Debian's libapache2-mod-auth-openidc, 2.4 on bookworm) as an
# independent relying party, once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres},
# configured with the lines of docs/integrations/generic-oidc.md against the org server. With curl
# as the browser it checks:
#   an assigned person      -> signs in on the hosted form; Apache serves the page with
#                              REMOTE_USER set from the ID token (and the code was redeemed by
#                              mod_auth_openidc with client_secret_basic)
#   an unassigned person    -> Apache shows Gatehouse's access_denied ("User is not assigned to
#                              the client application."), not the page it shows for an error
#                              response with `iss` (which 2.4 takes for a third-party login), and
#                              the refusal is in the System Log
#   RFC 9207 on             -> (`gatehouse auth-server set-iss --id org --mode on`) discovery says
#                              so and the error carries iss: documented as not for mod_auth_openidc 2.4
# Apache runs on a loopback port with its own config directory, in the foreground in the
# background (no systemd), and is killed at exit; as root its children run as www-data.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
source "$here/lib/deps.sh"
source "$here/lib/serve.sh"

ensure_apache_openidc() {
  [[ -x /usr/sbin/apache2 && -f /usr/lib/apache2/modules/mod_auth_openidc.so ]] && return 0
  echo "installing Debian's apache2 and libapache2-mod-auth-openidc (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q apache2 libapache2-mod-auth-openidc >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q apache2 libapache2-mod-auth-openidc >/dev/null; }) || return 1
  [[ -x /usr/sbin/apache2 && -f /usr/lib/apache2/modules/mod_auth_openidc.so ]]
}
ensure_apache_openidc || { echo "FAIL: cannot install Debian's apache2 and mod_auth_openidc"; exit 2; }
exit_if_install_only

apache_pid=""
apache_dir=""
stop_all() {
  if [[ -n "$apache_pid" ]]; then
    kill "$apache_pid" 2>/dev/null
    wait "$apache_pid" 2>/dev/null
    apache_pid=""
  fi
  [[ -n "$apache_dir" ]] && rm -rf "$apache_dir"
  apache_dir=""
  gh_stop
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start_apache <gatehouse url> <port> <client id> <client secret>
start_apache() {
  local gh="$1" port="$2" id="$3" secret="$4" user_lines=""
  apache_dir="$(mktemp -d)"
  chmod 755 "$apache_dir"
  mkdir -p "$apache_dir/logs" "$apache_dir/htdocs/private"
  echo "protected page" >"$apache_dir/htdocs/private/index.html"
  # As root, Apache's children drop to an unprivileged user (it refuses to serve as root).
  [[ "$(id -u)" == 0 ]] && user_lines=$'User www-data\nGroup www-data'
  sed -e "s|@DIR@|$apache_dir|g" -e "s|@GATEHOUSE@|$gh|g" -e "s|@PORT@|$port|g" \
    -e "s|@CLIENT_ID@|$id|g" -e "s|@CLIENT_SECRET@|$secret|g" "$here/apache/httpd.conf.in" |
    awk -v u="$user_lines" '{ if ($0 == "@USER_LINES@") print u; else print }' >"$apache_dir/httpd.conf"
  /usr/sbin/apache2 -d "$apache_dir" -f "$apache_dir/httpd.conf" -DFOREGROUND \
    >"$apache_dir/logs/stdout.log" 2>&1 &
  apache_pid=$!
  local _
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
    kill -0 "$apache_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "apache did not start:"; cat "$apache_dir/logs/"*.log
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

form_action() { # form_action <html file>: the sign-in form's action, HTML-unescaped
  python3 - "$1" <<'PY'
import html, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<form method="post" action="([^"]*)"', page)
print(html.unescape(m.group(1)) if m else "")
PY
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"; }

# sign_in <login> <password>: from Apache's protected page through the hosted form; leaves the
# final response in $work/body and $work/headers and prints its status code.
sign_in() {
  local login="$1" password="$2" code location action tx csrf
  rm -f "$jar"
  read -r code location < <(get "$site/private/")
  [[ "$code" == 302 && "$location" == "$gh_url/oauth2/v1/authorize?"* ]] || { echo "  Apache did not send the browser to Gatehouse: $code $location"; echo 0; return; }
  read -r code location < <(get "$location")
  while [[ "$code" == 30[0-9] && "$location" != *"/login/"* && -n "$location" ]]; do read -r code location < <(get "$location"); done
  [[ "$code" == 200 ]] || read -r code _ < <(get "$location")
  action="$(form_action "$work/body")"; tx="$(hidden "$work/body" tx)"; csrf="$(hidden "$work/body" csrf)"
  [[ "$action" == /* ]] && action="$gh_url$action"
  read -r code location < <(get "$action" --data-urlencode "tx=$tx" --data-urlencode "csrf=$csrf" \
    --data-urlencode "username=$login" --data-urlencode "password=$password")
  # Follow the redirects back to Apache (the callback) and on to the page.
  local hops=0
  while [[ "$code" == 30[0-9] && -n "$location" && "$hops" -lt 8 ]]; do
    read -r code location < <(get "$location"); hops=$((hops + 1))
  done
  echo "$code"
}

summary=()
failed=0
for backend in $backends; do
  echo
  echo "== Apache mod_auth_openidc on $backend"
  errors=0
  if ! gh_start "$backend"; then
    summary+=("$backend: FAILED (server did not start)"); failed=1; stop_all; continue
  fi
  cli=("$gh_bin" "${gh_global[@]}")
  work="$gh_work"
  jar="$work/cookies.txt"
  port="$(free_port)"
  site="http://127.0.0.1:$port"
  get() { curl -s -b "$jar" -c "$jar" -o "$work/body" -D "$work/headers" -w '%{http_code} %{redirect_url}\n' "$@"; }
  for who in ada bob; do
    echo "apache-test-password-1" | "${cli[@]}" user add --login "$who@example.com" --email "$who@example.com" \
      --first-name "${who^}" --last-name Tester --password-stdin >/dev/null || errors=$((errors + 1))
  done
  "${cli[@]}" group add --name intranet-users >/dev/null &&
    "${cli[@]}" group add-member --group intranet-users --user ada@example.com >/dev/null || errors=$((errors + 1))
  app_json="$("${cli[@]}" app create-oidc --type web --label "Intranet (mod_auth_openidc)" \
    --redirect-uri "$site/private/redirect_uri" --assign intranet-users --output json)"
  client_id="$(json_field client_id <<<"$app_json")"; client_secret="$(json_field client_secret <<<"$app_json")"
  check "app create-oidc gave a client id and secret" test -n "$client_id" -a -n "$client_secret"
  if ! start_apache "$gh_url" "$port" "$client_id" "$client_secret"; then
    summary+=("$backend: FAILED (apache did not start)"); failed=1; stop_all; continue
  fi

  code="$(sign_in ada@example.com apache-test-password-1 | tail -n1)"
  check "an assigned person gets Apache's protected page (got $code)" test "$code" = 200
  check "the page is Apache's" grep -q "protected page" "$work/body"
  check "REMOTE_USER is the person's preferred_username" grep -qi '^x-remote-user: ada@example.com' "$work/headers"

  code="$(sign_in bob@example.com apache-test-password-1 | tail -n1)"
  body="$(cat "$work/body")"
  check "an unassigned person gets Apache's error page (got $code)" grep -q "<title>Error</title>" <<<"$body"
  check "Apache shows Gatehouse's access_denied" grep -q "access_denied" <<<"$body"
  check "... with Gatehouse's description" grep -q "User is not assigned to the client application" <<<"$body"
  check "not the protected page" bash -c '! grep -q "protected page" "$1"' _ "$work/body"
  token="$(gh_token apache-tests)"
  logged="$(curl -s -H "Authorization: SSWS $token" \
    "$gh_url/api/v1/logs?filter=eventType%20eq%20%22app.generic.unauth_app_access_attempt%22")"
  check "the refusal is in the System Log" grep -q '"alternateId":"bob@example.com"' <<<"$logged"
  discovery="$(curl -s "$gh_url/.well-known/openid-configuration")"
  check "discovery does not claim RFC 9207 by default" grep -q '"authorization_response_iss_parameter_supported":false' <<<"$discovery"

  # RFC 9207 on: discovery says so and the error response carries iss (mod_auth_openidc 2.4
  # reads that as a third-party-initiated login: the page it then shows is not the error).
  "${cli[@]}" auth-server set-iss --id org --mode on >/dev/null || errors=$((errors + 1))
  sleep 1
  discovery="$(curl -s "$gh_url/.well-known/openid-configuration")"
  if ! grep -q '"authorization_response_iss_parameter_supported":true' <<<"$discovery"; then
    sleep 30  # a running node re-reads a server's settings within 30 s
    discovery="$(curl -s "$gh_url/.well-known/openid-configuration")"
  fi
  check "with set-iss on, discovery claims RFC 9207" grep -q '"authorization_response_iss_parameter_supported":true' <<<"$discovery"
  code="$(sign_in bob@example.com apache-test-password-1 | tail -n1)"
  body="$(cat "$work/body")"
  echo "  (with iss on error responses, mod_auth_openidc 2.4 answers $code:"; sed -e 's/<[^>]*>/ /g' "$work/body" | tr -s ' \n' ' ' | cut -c1-300; echo ")"
  check "with iss on, mod_auth_openidc 2.4 shows its third-party-login page instead (target_link_uri)" \
    bash -c 'grep -q "target_link_uri" "$1" && ! grep -q "User is not assigned" "$1"' _ "$work/body"

  if [[ "$errors" == 0 ]]; then summary+=("$backend: ok"); else
    summary+=("$backend: FAILED ($errors checks)"); failed=1
    echo "-- apache error log"; tail -n 30 "$apache_dir/logs/error.log"
    echo "-- gatehouse log"; tail -n 20 "$gh_log"
  fi
  stop_all
done

echo
echo "== Apache mod_auth_openidc"
printf '  %s\n' "${summary[@]}"
exit "$failed"
