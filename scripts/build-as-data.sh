#!/usr/bin/env bash
# Install the pinned offline IP-to-AS data (asdata/package-lock.json, `npm ci`: the npm package
# @ip-location-db/asn, RouteViews + NRO + DB-IP data under CC BY 4.0) and copy its numeric CSV files,
# gzip'd, with their licence files into src/yapdns/enrich/data (git-ignored), which the wheel ships
# (src/yapdns/enrich/asnumbers.py reads it). Idempotent and quick when nothing changed. Nothing is
# fetched at run time: the server and the worker only read what this script put in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/asdata"
OUT="$ROOT/src/yapdns/enrich/data"
PKG="$SRC/node_modules/@ip-location-db/asn"
STAMP="$OUT/.package-lock.sha256"

lock_sum() { sha256sum "$SRC/package-lock.json" | cut -d' ' -f1; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(lock_sum)" ] \
   && [ -s "$OUT/asn-ipv4-num.csv.gz" ] && [ -s "$OUT/asn-ipv6-num.csv.gz" ] && [ -s "$OUT/source.json" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  source "$ROOT/scripts/lib.sh"
  apt_install nodejs npm
fi
cd "$SRC"
# --ignore-scripts: a data package; nothing to run.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p "$OUT"
for f in asn-ipv4-num.csv asn-ipv6-num.csv; do gzip -n -9 -c "$PKG/$f" > "$OUT/$f.gz.tmp" && mv "$OUT/$f.gz.tmp" "$OUT/$f.gz"; done
for f in ROUTEVIEWS-LICENSE DBIP-LICENSE NRO_LICENSE MODIFICATIONS; do install -m 0644 "$PKG/$f" "$OUT/$f.txt"; done
node -e '
const lock = require(process.argv[1]).packages["node_modules/@ip-location-db/asn"];
process.stdout.write(JSON.stringify({package: "@ip-location-db/asn", version: lock.version,
  integrity: lock.integrity, licence: "CC BY 4.0"}) + "\n");
' "$SRC/package-lock.json" > "$OUT/source.json"
lock_sum > "$STAMP"
echo "AS data installed: $(cat "$OUT/source.json")" >&2
