#!/bin/bash
# Regenerate golden/bind_query/*.log with Debian's BIND 9 (named) on loopback.
# The `queries` category goes to four channels, one per print-time style;
# two views (internal for 127.0.0.1, external for ::1) make `view <name>:`
# appear; dig sends plain, TCP, DO, CD, no-RD, ECS, cookie-less and
# TSIG-signed queries, and names that the server refuses or does not have.
# named runs with TZ=Europe/Rome so that local stamps differ from UTC.
source "$(dirname "$0")/_common.sh"

WORK="$(mktemp -d /tmp/yapdns-bindgen.XXXXXX)"
PORT="$(free_port)"
OUT="$GOLDEN/bind_query"
write_zone "$WORK/yapdns.test.zone"
SECRET="$(head -c 32 /dev/urandom | base64)"

cat >"$WORK/named.conf" <<EOF
key "sensor-key" { algorithm hmac-sha256; secret "$SECRET"; };
options {
    directory "$WORK";
    pid-file "$WORK/named.pid";
    listen-on port $PORT { 127.0.0.1; };
    listen-on-v6 port $PORT { ::1; };
    recursion no;
    dnssec-validation no;
};
logging {
    channel q_local { file "$WORK/querylog_print-time_local.log"; print-time local; print-category yes; print-severity yes; severity info; };
    channel q_iso { file "$WORK/querylog_print-time_iso8601.log"; print-time iso8601; severity info; };
    channel q_utc { file "$WORK/querylog_print-time_iso8601-utc.log"; print-time iso8601-utc; print-category yes; severity info; };
    channel q_none { file "$WORK/querylog_no_print-time.log"; print-time no; severity info; };
    channel mixed { file "$WORK/querylog_with_security_and_query-errors.log"; print-time local; print-category yes; print-severity yes; severity info; };
    category queries { q_local; q_iso; q_utc; q_none; mixed; };
    category security { mixed; };
    category query-errors { mixed; };
    category default { null; };
};
view "internal" {
    match-clients { 127.0.0.1; };
    zone "yapdns.test" { type primary; file "$WORK/yapdns.test.zone"; };
};
view "external" {
    match-clients { any; };
    zone "yapdns.test" { type primary; file "$WORK/yapdns.test.zone"; allow-transfer { none; }; };
    zone "private.test" { type primary; file "$WORK/yapdns.test.zone"; allow-query { none; }; };
};
EOF

TZ=Europe/Rome named -c "$WORK/named.conf" -f -n 1 &
NAMED=$!
trap 'kill $NAMED 2>/dev/null; wait $NAMED 2>/dev/null; rm -rf "$WORK"' EXIT
wait_port "$PORT"
# wait_port's probe is itself a query: start the logs afresh
for f in "$WORK"/querylog_*.log; do : >"$f"; done

q() { dig +time=2 +tries=1 -p "$PORT" "$@" >/dev/null || true; }
q @127.0.0.1 www.yapdns.test A
q @127.0.0.1 www.yapdns.test AAAA +tcp
q @127.0.0.1 cdn.yapdns.test A +dnssec
q @127.0.0.1 yapdns.test MX +cdflag
q @127.0.0.1 yapdns.test TXT +norecurse
q @127.0.0.1 _sip._tcp.yapdns.test SRV +nocookie
q @127.0.0.1 mail.yapdns.test A +subnet=198.51.100.0/24
q @127.0.0.1 nosuchname.yapdns.test A
q @127.0.0.1 xn--bcher-kva.yapdns.test A +noedns
q @127.0.0.1 'we\ ird\.name.yapdns.test' A
q @127.0.0.1 www.example.org A
q @127.0.0.1 2.0.192.in-addr.arpa PTR
q @127.0.0.1 yapdns.test ANY
q @127.0.0.1 -y "hmac-sha256:sensor-key:$SECRET" www.yapdns.test A
q @::1 www.yapdns.test A
q @::1 www.yapdns.test AAAA +tcp +subnet=2001:db8:1::/48
q @::1 yapdns.test CAA
q @::1 yapdns.test TYPE65534
q @::1 yapdns.test AXFR
q @::1 www.private.test A
sleep 0.5

mkdir -p "$OUT"
for f in "$WORK"/querylog_*.log; do cp "$f" "$OUT/$(basename "$f")"; done
echo "wrote $(ls "$OUT"/querylog_*.log | wc -l) logs to $OUT with $(named -v)"
