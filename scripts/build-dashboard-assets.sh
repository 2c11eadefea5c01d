#!/usr/bin/env bash
# Install the dashboard's pinned browser libraries (frontend/package-lock.json)
# and copy their upstream-built, minified files into the Django static folder.
# Idempotent; needs node >= 18 and npm; run from anywhere. Nothing is fetched
# at run time: the server only serves what this script put in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
VENDOR="$ROOT/src/yapdns/server/dashboard/static/dashboard/vendor"

command -v npm >/dev/null || { echo "npm is required (node 20 + npm)" >&2; exit 1; }
cd "$FRONTEND"
# --ignore-scripts: these packages ship prebuilt files and need no install hooks.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
mkdir -p "$VENDOR"
copy() { install -m 0644 "$FRONTEND/node_modules/$1" "$VENDOR/$2"; }
copy echarts/dist/echarts.min.js echarts.min.js
copy echarts/LICENSE LICENSE-echarts.txt
copy cytoscape/dist/cytoscape.min.js cytoscape.min.js
copy cytoscape/LICENSE LICENSE-cytoscape.txt
node -e '
const lock = require(process.argv[1]).packages;
const v = (n) => lock["node_modules/" + n].version;
process.stdout.write(JSON.stringify({echarts: v("echarts"), cytoscape: v("cytoscape")}, null, 1) + "\n");
' "$FRONTEND/package-lock.json" > "$VENDOR/versions.json"
echo "dashboard assets ready in $VENDOR:"
ls -1 "$VENDOR"
