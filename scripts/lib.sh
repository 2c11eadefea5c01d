# Shared by scripts/demo and scripts/test: a project virtualenv with YAPDNS installed.
# Usage: source scripts/lib.sh; ensure_venv EXTRAS
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${YAPDNS_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

# Colours only to a terminal: a log file or a pipe gets plain text.
log() { if [ -t 2 ]; then printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi; }

apt_install() {
  # Install Debian packages that are missing (needs root or sudo); quiet when all are present.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
}

apt_install_no_start() {
  # apt_install, with Debian's service start-up suppressed for the install (policy-rc.d answers 101):
  # the tests run their own server processes and the packages' system services must stay down.
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  local policy=/usr/sbin/policy-rc.d restore=""
  if [ -e "$policy" ]; then restore="$(mktemp)"; $sudo cp -p "$policy" "$restore"; fi
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null; $sudo chmod 755 "$policy"
  local rc=0
  apt_install "${missing[@]}" || rc=$?
  if [ -n "$restore" ]; then $sudo mv "$restore" "$policy"; else $sudo rm -f "$policy"; fi
  return $rc
}

ensure_build_tools() {
  # A C compiler and the Python headers: the wire sensors' C helpers are built at install (docs/dependencies.md).
  # Without them the install still works and runs the (slower) Python code instead.
  local include
  include="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  if ! command -v gcc >/dev/null || [ ! -f "$include/Python.h" ]; then apt_install gcc libc6-dev python3-dev; fi
}

ensure_venv() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PY" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; "$PY" -m venv "$VENV"; }
  fi
  local stamp="$VENV/.yapdns-installed-$extras"
  # reinstall when the project's metadata or its C sources and headers (built at install) changed
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] \
    || [ -n "$(find "$ROOT/src" \( -name '*.c' -o -name '*.h' \) -newer "$stamp" -print -quit)" ]; then
    ensure_build_tools
    log "installing yapdns[$extras] into $VENV"
    local out="$VENV/pip-install.log"
    { "$VENV/bin/python" -m pip install -q --upgrade pip && "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]"; } \
      >"$out" 2>&1 || { cat "$out" >&2; echo "pip install failed (log: $out)" >&2; exit 1; }
    touch "$stamp"
  fi
}
