# Shared by the real-client test scripts: install what a client needs, once, from PyPI or npm.
#
#   ensure_venv <dir> <probe python code> <pip requirement>...   # a virtualenv that passes probe
#                                      # (made with $VENV_PYTHON, default python3)
#   ensure_npm <dir> <probe node code>                           # node_modules from the lockfile
#   ensure_chromium                                              # Debian's chromium (apt-get)
#   exit_if_install_only               # after a script's installs: stop there if INSTALL_ONLY=1
#                                      # (test.sh installs every client's dependencies ahead, in
#                                      # the background, while Rust compiles)

ensure_venv() {
  local dir="$1" probe="$2"; shift 2
  if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -c "$probe" 2>/dev/null; then
    return 0
  fi
  echo "setting up $dir ($*)"
  [[ -x "$dir/bin/python" ]] || "${VENV_PYTHON:-python3}" -m venv "$dir" || return 1
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" || return 1
  "$dir/bin/python" -c "$probe"
}

ensure_npm() {
  local dir="$1" probe="$2"
  if (cd "$dir" && node -e "$probe" 2>/dev/null); then
    return 0
  fi
  echo "installing $dir/node_modules (npm ci)"
  (cd "$dir" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) || return 1
  (cd "$dir" && node -e "$probe")
}

ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  echo "installing Debian's chromium (apt-get)"
  (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) || return 1
  [[ -x /usr/bin/chromium ]]
}

exit_if_install_only() {
  [[ "${INSTALL_ONLY:-0}" == 1 ]] && exit 0
  return 0
}

# The probes the Okta SDK clients share.
OKTA_PY_PROBE='import okta, importlib.metadata as m; raise SystemExit(0 if m.version("okta").split(".")[0] == "3" else 1)'
OKTA_NODE_PROBE="const v = require('@okta/okta-sdk-nodejs/package.json').version; process.exit(v.startsWith('8.') ? 0 : 1)"

ensure_nginx() {
  command -v nginx >/dev/null 2>&1 && return 0
  [[ -x /usr/sbin/nginx ]] && { PATH="$PATH:/usr/sbin"; return 0; }
  echo "installing Debian's nginx-light (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q nginx-light >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx-light >/dev/null; }) || return 1
  command -v nginx >/dev/null 2>&1 || { [[ -x /usr/sbin/nginx ]] && PATH="$PATH:/usr/sbin"; }
}

ensure_caddy() {
  command -v caddy >/dev/null 2>&1 && return 0
  echo "installing Debian's caddy (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q caddy >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q caddy >/dev/null; }) || return 1
  command -v caddy >/dev/null 2>&1
}
