#!/bin/sh
# Install what the test suite needs beyond `pip install -e '.[dev]'`: the Debian dnsdbq client,
# which tests/server/compat drives against a live server. Idempotent; fast when already installed.
set -eu
if ! command -v dnsdbq >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends dnsdbq >/dev/null
fi
dnsdbq -v
