# Shared helpers for the sample generators (sourced, not run).
# Each generator runs a real DNS daemon or proxy from Debian's packages on
# loopback, on an ephemeral port, in a private temp dir, and copies the log
# it wrote next to the golden tests. Run as root (the daemons bind ports and
# some want to drop privileges).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GOLDEN="$(cd "$HERE/../golden" && pwd)"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {  # wait_port PORT [NAME]: until something answers a query for NAME on 127.0.0.1#PORT
    for _ in $(seq 1 50); do
        if dig +time=1 +tries=1 -p "$1" @127.0.0.1 "${2:-.}" SOA >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "nothing answers on port $1" >&2
    return 1
}

# The test zone: names under the reserved TLD .test (RFC 2606).
write_zone() {  # write_zone FILE
    cat >"$1" <<'EOF'
$TTL 300
@       IN SOA  ns1.yapdns.test. hostmaster.yapdns.test. 2024010101 3600 600 86400 60
        IN NS   ns1.yapdns.test.
        IN MX   10 mail.yapdns.test.
        IN TXT  "v=spf1 -all"
ns1     IN A    192.0.2.53
www     IN A    192.0.2.10
www     IN A    192.0.2.11
www     IN AAAA 2001:db8::10
mail    IN A    192.0.2.25
cdn     IN CNAME www.yapdns.test.
_sip._tcp IN SRV 10 60 5060 www.yapdns.test.
xn--bcher-kva IN A 192.0.2.77
EOF
}
