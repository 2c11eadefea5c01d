#!/usr/bin/env bash
# What the dashboard's end-to-end tests drive (idempotent; quick when installed):
# Debian's headless Chromium (never `playwright install`: browser downloads fail
# here; the tests launch /usr/bin/chromium) and the dashboard's browser libraries.
source "$(dirname "$0")/lib.sh"
apt_install chromium chromium-driver fonts-dejavu-core
"$ROOT/scripts/build-dashboard-assets.sh"
