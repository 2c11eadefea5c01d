#!/bin/bash
# Regenerate golden/unbound/*.log with Debian's unbound on loopback.
# Two runs of the same queries: the default logfile format ([epoch] prefix,
# `info:` tag) and `log-time-ascii` + `log-tag-queryreply` (`query:` /
# `reply:` tags). log-queries, log-replies, log-local-actions and
# log-servfail are on. Answers come from local-data (NOERROR, NODATA,
# NXDOMAIN), an always_nxdomain zone, and a stub zone whose server does not
# listen (SERVFAIL). unbound runs with TZ=Europe/Rome.
source "$(dirname "$0")/_common.sh"

WORK="$(mktemp -d /tmp/yapdns-unboundgen.XXXXXX)"
OUT="$GOLDEN/unbound"
DEAD_PORT="$(free_port)"
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT

run() {  # run NAME EXTRA_OPTIONS...
    local name="$1"; shift
    local port; port="$(free_port)"
    {
        echo "server:"
        echo "  interface: 127.0.0.1@$port"
        echo "  interface: ::1@$port"
        echo "  do-daemonize: no"
        echo "  username: \"\""
        echo "  chroot: \"\""
        echo "  directory: \"$WORK\""
        echo "  pidfile: \"$WORK/unbound.pid\""
        echo "  logfile: \"$WORK/$name.log\""
        echo "  use-syslog: no"
        echo "  verbosity: 0"
        echo "  log-queries: yes"
        echo "  log-replies: yes"
        echo "  log-local-actions: yes"
        echo "  log-servfail: yes"
        for opt in "$@"; do echo "  $opt"; done
        echo "  access-control: 127.0.0.0/8 allow"
        echo "  access-control: ::1 allow"
        echo "  do-not-query-localhost: no"
        echo "  local-zone: \"yapdns.test.\" static"
        echo "  local-data: \"www.yapdns.test. 300 IN A 192.0.2.10\""
        echo "  local-data: \"www.yapdns.test. 300 IN AAAA 2001:db8::10\""
        echo "  local-data: \"cdn.yapdns.test. 300 IN CNAME www.yapdns.test.\""
        echo "  local-data: \"yapdns.test. 300 IN MX 10 mail.yapdns.test.\""
        echo "  local-zone: \"ads.test.\" always_nxdomain"
        echo "stub-zone:"
        echo "  name: \"broken.example.\""
        echo "  stub-addr: 127.0.0.1@$DEAD_PORT"
    } >"$WORK/$name.conf"
    TZ=Europe/Rome unbound -d -c "$WORK/$name.conf" &
    PID=$!
    wait_port "$port" yapdns.test
    : >"$WORK/$name.log"
    q() { dig +time=3 +tries=1 -p "$port" "$@" >/dev/null || true; }
    q @127.0.0.1 www.yapdns.test A
    q @127.0.0.1 www.yapdns.test AAAA
    q @127.0.0.1 www.yapdns.test A
    q @127.0.0.1 cdn.yapdns.test A
    q @127.0.0.1 yapdns.test MX +tcp
    q @127.0.0.1 www.yapdns.test TXT
    q @127.0.0.1 nosuchname.yapdns.test A
    q @127.0.0.1 tracker.ads.test A
    q +time=20 @127.0.0.1 host.broken.example A
    q @::1 www.yapdns.test AAAA
    q @::1 'we\ ird.yapdns.test' A
    q @::1 yapdns.test TYPE65534
    sleep 0.3
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    cp "$WORK/$name.log" "$OUT/$name.log"
}

mkdir -p "$OUT"
run logfile_epoch_info
run logfile_ascii_tagged "log-time-ascii: yes" "log-tag-queryreply: yes"
echo "wrote 2 logs to $OUT with $(unbound -V | head -1)"
