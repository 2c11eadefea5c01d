#!/bin/bash
# Regenerate golden/squid/access_native.log with Debian's squid on loopback.
# squid resolves names from its own hosts_file (www/static -> 127.0.0.1,
# v6 -> ::1), forwards to local Python web servers (plain HTTP on 127.0.0.1
# and ::1, TLS on 127.0.0.1 for CONNECT), and curl fetches through it:
# hostname URLs (HIER_DIRECT), an IP-literal URL, a CONNECT tunnel, a 404, a
# POST, a repeat that squid serves from memory (HIER_NONE), a name squid
# cannot resolve (error, HIER_NONE) and a denied method.
source "$(dirname "$0")/_common.sh"

WORK="$(mktemp -d /tmp/yapdns-squidgen.XXXXXX)"
OUT="$GOLDEN/squid"
PROXY="$(free_port)"
WEB="$(free_port)"
TLS="$(free_port)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT

mkdir -p "$WORK/www"
echo "hello" >"$WORK/www/index.html"
head -c 2000 /dev/zero >"$WORK/www/static.bin"
cat >"$WORK/hosts" <<EOF
127.0.0.1 www.yapdns.test static.yapdns.test
::1 v6.yapdns.test
EOF
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 1 -subj "/CN=www.yapdns.test" >/dev/null 2>&1
cat >"$WORK/tls.py" <<EOF
import http.server, ssl, functools
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="$WORK/www")
srv = http.server.HTTPServer(("127.0.0.1", $TLS), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("$WORK/cert.pem", "$WORK/key.pem")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
cat >"$WORK/squid.conf" <<EOF
http_port 127.0.0.1:$PROXY
pid_filename $WORK/squid.pid
access_log stdio:$WORK/access.log squid
cache_log $WORK/cache.log
cache_store_log none
coredump_dir $WORK
hosts_file $WORK/hosts
cache_mem 8 MB
acl denied_method method PUT
http_access deny denied_method
http_access allow all
refresh_pattern . 60 50% 600
EOF
chown -R proxy:proxy "$WORK"

python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$WEB" >/dev/null 2>&1 & PIDS+=($!)
python3 -m http.server --bind ::1 --directory "$WORK/www" "$WEB" >/dev/null 2>&1 & PIDS+=($!)
python3 "$WORK/tls.py" >/dev/null 2>&1 & PIDS+=($!)
squid -N -f "$WORK/squid.conf" & PIDS+=($!)
ready() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$@" && return 0; sleep 0.2; done; return 1; }
ready "http://127.0.0.1:$WEB/" && ready "http://[::1]:$WEB/" && ready -k "https://127.0.0.1:$TLS/"
ready -x "http://127.0.0.1:$PROXY" "http://127.0.0.1:$WEB/"
: >"$WORK/access.log"

c() { curl -s -o /dev/null --max-time 10 -x "http://127.0.0.1:$PROXY" "$@" || true; }
c "http://www.yapdns.test:$WEB/"
c "http://static.yapdns.test:$WEB/static.bin"
c "http://static.yapdns.test:$WEB/static.bin"
c "http://www.yapdns.test:$WEB/missing"
c -d "q=1" "http://www.yapdns.test:$WEB/"
c "http://v6.yapdns.test:$WEB/"
c "http://127.0.0.1:$WEB/"
c "http://[::1]:$WEB/"
c -k "https://www.yapdns.test:$TLS/"
c "http://unresolvable.yapdns.test:$WEB/"
c -X PUT "http://www.yapdns.test:$WEB/"
sleep 1
squid -k rotate -f "$WORK/squid.conf" >/dev/null 2>&1 || true
sleep 0.5

mkdir -p "$OUT"
cp "$WORK/access.log" "$OUT/access_native.log"
echo "wrote $(wc -l <"$OUT/access_native.log") lines to $OUT with $(squid -v | head -1)"
