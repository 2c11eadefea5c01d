#!/usr/bin/env bash
# Install the pinned offline address data (asdata/package-lock.json, `npm ci`): the npm packages
# @ip-location-db/asn (AS numbers and names: RouteViews + NRO + DB-IP, CC BY 4.0) and
# @ip-location-db/geo-whois-asn-country (country: geofeeds, RIR whois, AS data; CC0-1.0, NRO data CC BY 4.0),
# and copy their numeric CSV files, gzip'd, with their licence files and source.json (each package's version
# and integrity hash) into src/yapdns/enrich/data (git-ignored), which the wheel ships
# (src/yapdns/enrich/asnumbers.py and countries.py read it). Idempotent and quick when nothing changed.
# Nothing is fetched at run time: the server and the worker only read what this script put in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/asdata"
OUT="$ROOT/src/yapdns/enrich/data"
MODULES="$SRC/node_modules/@ip-location-db"
STAMP="$OUT/.package-lock.sha256"
CSV=(asn/asn-ipv4-num.csv asn/asn-ipv6-num.csv
     geo-whois-asn-country/geo-whois-asn-country-ipv4-num.csv geo-whois-asn-country/geo-whois-asn-country-ipv6-num.csv)

lock_sum() { sha256sum "$SRC/package-lock.json" | cut -d' ' -f1; }
built() { for f in "${CSV[@]}"; do [ -s "$OUT/$(basename "$f").gz" ] || return 1; done; [ -s "$OUT/source.json" ]; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(lock_sum)" ] && built; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  source "$ROOT/scripts/lib.sh"
  apt_install nodejs npm
fi
cd "$SRC"
# --ignore-scripts: data packages; nothing to run.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p "$OUT"
for f in "${CSV[@]}"; do
  name="$(basename "$f")"
  gzip -n -9 -c "$MODULES/$f" > "$OUT/$name.gz.tmp" && mv "$OUT/$name.gz.tmp" "$OUT/$name.gz"
done
for f in ROUTEVIEWS-LICENSE DBIP-LICENSE NRO_LICENSE MODIFICATIONS; do install -m 0644 "$MODULES/asn/$f" "$OUT/$f.txt"; done
node -e '
const lock = require(process.argv[1]).packages;
const out = {};
for (const name of ["@ip-location-db/asn", "@ip-location-db/geo-whois-asn-country"]) {
  const p = lock["node_modules/" + name];
  out[name] = {version: p.version, integrity: p.integrity, license: p.license};
}
process.stdout.write(JSON.stringify(out) + "\n");
' "$SRC/package-lock.json" > "$OUT/source.json"
lock_sum > "$STAMP"
echo "address data installed: $(cat "$OUT/source.json")" >&2
