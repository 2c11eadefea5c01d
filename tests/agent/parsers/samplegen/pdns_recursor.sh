#!/bin/bash
# Regenerate golden/pdns_recursor/*.log with Debian's PowerDNS Recursor on
# loopback, `quiet=no`, logging to stdout (disable-syslog, log-timestamp).
# Two runs of the same queries: structured logging (the default, key="value")
# and `structured-logging=no` (the legacy "question for" text). Answers come
# from an auth-zone file (NOERROR, NODATA, NXDOMAIN) and a forward zone whose
# server does not listen (SERVFAIL). The recursor runs with TZ=Europe/Rome.
source "$(dirname "$0")/_common.sh"

WORK="$(mktemp -d /tmp/yapdns-pdnsgen.XXXXXX)"
OUT="$GOLDEN/pdns_recursor"
DEAD_PORT="$(free_port)"
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
write_zone "$WORK/yapdns.test.zone"

run() {  # run NAME EXTRA_SETTINGS...
    local name="$1"; shift
    local port; port="$(free_port)"
    {
        echo "local-address=127.0.0.1, ::1"
        echo "local-port=$port"
        echo "daemon=no"
        echo "disable-syslog=yes"
        echo "log-timestamp=yes"
        echo "quiet=no"
        echo "socket-dir=$WORK"
        echo "auth-zones=yapdns.test=$WORK/yapdns.test.zone"
        echo "forward-zones=broken.example=127.0.0.1:$DEAD_PORT"
        echo "dnssec=off"
        for opt in "$@"; do echo "$opt"; done
    } >"$WORK/recursor.conf"
    TZ=Europe/Rome pdns_recursor --config-dir="$WORK" >"$WORK/$name.full" 2>&1 &
    PID=$!
    wait_port "$port" yapdns.test
    local start; start=$(wc -l <"$WORK/$name.full")
    q() { dig +time=10 +tries=1 -p "$port" "$@" >/dev/null || true; }
    q @127.0.0.1 www.yapdns.test A
    q @127.0.0.1 www.yapdns.test AAAA
    q @127.0.0.1 cdn.yapdns.test A +tcp
    q @127.0.0.1 yapdns.test MX
    q @127.0.0.1 www.yapdns.test TXT
    q @127.0.0.1 nosuchname.yapdns.test A
    q @127.0.0.1 host.broken.example A
    q @::1 www.yapdns.test AAAA +subnet=198.51.100.0/24
    q @::1 yapdns.test TYPE65534
    sleep 0.3
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    # keep the query-handling part of the run, not the start-up banner
    tail -n +"$((start + 1))" "$WORK/$name.full" | grep -v -e 'Exiting on user request' -e 'Stopping' >"$OUT/$name.log" || true
}

mkdir -p "$OUT"
run structured_stdout
run legacy_stdout "structured-logging=no"
echo "wrote 2 logs to $OUT with $(pdns_recursor --version 2>&1 | head -1 | cut -c17-)"
