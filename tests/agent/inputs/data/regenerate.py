"""Regenerate the BIND 9 fixtures in this folder (needs bind9, bind9-dnsutils and tcpdump installed; run as root).

    python -m tests.agent.inputs.data.regenerate

Writes bind9_dig_loopback.pcap (tcpdump on lo while dig queries BIND over UDP
and TCP, IPv4 and IPv6), bind9_auth_client.dnstap (BIND's own dnstap file for
the same queries) and bind9_dig_loopback.dig.json (each query and dig's output).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from tests.agent.inputs import dnsservers as ds

HERE = Path(__file__).parent
QUERIES = [
    ("example.test", "SOA", "", "127.0.0.1"),
    ("www.example.test", "A", "", "127.0.0.1"),
    ("www.example.test", "A", "+norec", "127.0.0.1"),
    ("www.example.test", "AAAA", "+tcp", "127.0.0.1"),
    ("nx.example.test", "A", "", "127.0.0.1"),
    ("nx.example.test", "MX", "+tcp", "127.0.0.1"),
    ("onlyv4.example.test", "AAAA", "", "127.0.0.1"),
    ("example.test", "MX", "", "127.0.0.1"),
    ("txt.example.test", "TXT", "", "127.0.0.1"),
    ("_sip._tcp.example.test", "SRV", "", "127.0.0.1"),
    ("big.example.test", "A", "", "127.0.0.1"),
    ("big.example.test", "A", "+bufsize=4096", "127.0.0.1"),
    ("Caps.Example.TEST", "A", "", "127.0.0.1"),
    ("host.example.test", "AAAA", "", "::1"),
    ("mail.example.test", "A", "+tcp", "::1"),
]


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    dnstap = tmp / "bind.dnstap"
    results = []
    with ds.bind_server(tmp, f'file "{dnstap}"') as port, ds.tcpdump(tmp / "dig.pcap", f"port {port}"):
        for name, rrtype, flag, server in QUERIES:
            output = ds.dig(port, name, rrtype, *([flag] if flag else []), server=server)
            results.append({"name": name, "type": rrtype, "flag": flag, "server": server, "dig": output})
    shutil.copy(tmp / "dig.pcap", HERE / "bind9_dig_loopback.pcap")
    shutil.copy(dnstap, HERE / "bind9_auth_client.dnstap")
    (HERE / "bind9_dig_loopback.dig.json").write_text(json.dumps({"port": port, "queries": results}, indent=1))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
