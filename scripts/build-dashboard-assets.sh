#!/usr/bin/env bash
# Install the dashboard's pinned browser libraries (frontend/package-lock.json, `npm ci`)
# and copy their upstream-built, minified files into the Django static folder
# (git-ignored). Idempotent and quick when nothing changed. Nothing is fetched at
# run time: the server only serves what this script put in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
VENDOR="$ROOT/src/yapdns/server/dashboard/static/dashboard/vendor"
STAMP="$VENDOR/.package-lock.sha256"

lock_sum() { sha256sum "$FRONTEND/package-lock.json" | cut -d' ' -f1; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(lock_sum)" ] \
   && [ -s "$VENDOR/echarts.min.js" ] && [ -s "$VENDOR/cytoscape.min.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  source "$ROOT/scripts/lib.sh"
  apt_install nodejs npm
fi
cd "$FRONTEND"
# --ignore-scripts: these packages ship prebuilt files and need no install hooks.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p "$VENDOR"
copy() { install -m 0644 "$FRONTEND/node_modules/$1" "$VENDOR/$2"; }
copy echarts/dist/echarts.min.js echarts.min.js
copy echarts/LICENSE LICENSE-echarts.txt
copy echarts/NOTICE NOTICE-echarts.txt
copy cytoscape/dist/cytoscape.min.js cytoscape.min.js
copy cytoscape/LICENSE LICENSE-cytoscape.txt
node -e '
const lock = require(process.argv[1]).packages;
const v = (n) => lock["node_modules/" + n].version;
process.stdout.write(JSON.stringify({echarts: v("echarts"), cytoscape: v("cytoscape")}) + "\n");
' "$FRONTEND/package-lock.json" > "$VENDOR/versions.json"
lock_sum > "$STAMP"
echo "dashboard assets installed: $(cat "$VENDOR/versions.json")" >&2
