"""Write a large pcap of realistic DNS traffic between clients and recursive resolvers (for benchmarks/pcap.py).

    python benchmarks/make_dns_pcap.py /tmp/dns-1m.pcap --packets 1000000

The traffic model, fixed by ``--seed``:
* 20,000 registered domains with Zipf popularity (s = 1.1); each has 1-4 A
  addresses, an AAAA set for 40%, a CNAME chain into a CDN for 20%, MX and TXT
  for some; answers carry the resolver's decreasing cache TTL.
* query types: A 55%, AAAA 30%, MX 4%, TXT 3%, NXDOMAIN lookups of random
  names 7% (typos, DGA-like), NODATA (AAAA of v4-only names) falls out of the mix;
* 2,000 IPv4 and 500 IPv6 clients, 4 resolvers, random source ports and ids,
  0x20-free lowercase names, 1% of exchanges over TCP (handshake, query,
  response, FIN), 0.5% unsolicited responses (spoofing noise, must be dropped);
* about 1,600 packets/s of capture time from 2024-06-01 00:00 UTC.

DNS messages are built once per (name, type) with dnspython, then copied with
a fresh id and TTLs patched in; headers are written with ``struct`` (IPv4
checksums are left 0: no tool in the comparison verifies them).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import struct
import sys
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from yapdns.agent.wire.message import read_name_wire

START = 1_717_200_000
PPS = 1600
WORDS = [
    *("alpha", "bravo", "cloud", "data", "edge", "fast", "globe", "hyper", "info"),
    *("jet", "kilo", "lumen", "metro", "nova", "omni", "pixel", "quant", "rapid"),
]
TLDS = ["com", "net", "org", "io", "de", "fr", "co.uk", "info", "xyz", "ru"]


class Domain:
    def __init__(self, rng: random.Random, i: int) -> None:
        self.name = f"{rng.choice(WORDS)}{i}.{rng.choice(TLDS)}"
        self.a = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                  for _ in range(rng.choice((1, 1, 1, 2, 2, 4)))]
        v6_count = rng.choice((1, 2)) if rng.random() < 0.4 else 0
        self.aaaa = [f"2001:db8:{i % 65536:x}::{k + 1:x}" for k in range(v6_count)]
        self.cname = f"{self.name.split('.')[0]}.cdn{rng.randrange(40)}.edgenet.net" if rng.random() < 0.2 else None
        self.mx = [f"10 mx1.{self.name}", f"20 mx2.{self.name}"] if rng.random() < 0.5 else []
        self.txt = ['"v=spf1 include:_spf.' + self.name + ' -all"'] if rng.random() < 0.5 else []
        self.ttl = rng.choice((60, 300, 300, 3600, 86400))


class Templates:
    """Wire templates per (qname, qtype): the query, the response, and the response's TTL offsets."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], tuple[bytes, bytes, list[int]]] = {}

    def get(self, domain: Domain | None, qname: str, qtype: str) -> tuple[bytes, bytes, list[int]]:
        key = (qname, qtype)
        if key not in self.cache:
            self.cache[key] = self._build(domain, qname, qtype)
        return self.cache[key]

    def _build(self, domain: Domain | None, qname: str, qtype: str) -> tuple[bytes, bytes, list[int]]:
        query = dns.message.make_query(qname, qtype, use_edns=False)
        query.id = 0
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.RA
        if domain is None:
            resp.set_rcode(dns.rcode.NXDOMAIN)
            resp.authority.append(dns.rrset.from_text(qname.split(".", 1)[1], 900, "IN", "SOA",
                                                      "a.nic. hostmaster.nic. 1 7200 900 1209600 900"))
        else:
            self._answer(resp, domain, qname, qtype)
        wire = resp.to_wire()
        return query.to_wire(), wire, _ttl_offsets(wire)

    @staticmethod
    def _answer(resp: dns.message.Message, d: Domain, qname: str, qtype: str) -> None:
        owner = qname
        if d.cname and qtype in ("A", "AAAA"):
            resp.answer.append(dns.rrset.from_text(qname, d.ttl, "IN", "CNAME", d.cname + "."))
            owner = d.cname + "."
        data = {"A": d.a, "AAAA": d.aaaa, "MX": [m + "." for m in d.mx], "TXT": d.txt}[qtype]
        if data:
            resp.answer.append(dns.rrset.from_text(owner, d.ttl, "IN", qtype, *data))
        else:
            resp.authority.append(dns.rrset.from_text(d.name + ".", 300, "IN", "SOA",
                                                      f"ns1.{d.name}. hostmaster.{d.name}. 1 7200 900 1209600 300"))


def _ttl_offsets(wire: bytes) -> list[int]:
    _, off = read_name_wire(wire, 12)
    off += 4
    offsets = []
    ancount, nscount = struct.unpack_from("!HH", wire, 6)
    for _ in range(ancount + nscount):
        _, off = read_name_wire(wire, off)
        offsets.append(off + 4)
        off += 10 + struct.unpack_from("!H", wire, off + 8)[0]
    return offsets


class PcapWriter:
    def __init__(self, path: Path) -> None:
        self.fh = path.open("wb")
        self.fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.count = 0

    def packet(self, t: float, src: bytes, dst: bytes, proto: int, l4: bytes) -> None:
        if len(src) == 4:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst)
            eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
        else:
            ip = struct.pack("!IHBB16s16s", 0x60000000, len(l4), proto, 64, src, dst)
            eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x86\xdd"
        frame = eth + ip + l4
        sec = int(t)
        self.fh.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
        self.fh.write(frame)
        self.count += 1


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + payload


def patched(template: bytes, txid: int, ttl_offsets: list[int], ttl: int) -> bytes:
    wire = bytearray(template)
    struct.pack_into("!H", wire, 0, txid)
    for off in ttl_offsets:
        struct.pack_into("!I", wire, off, ttl)
    return bytes(wire)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    domains = [Domain(rng, i) for i in range(20_000)]
    weights = list(itertools.accumulate(1 / (k + 1) ** 1.1 for k in range(len(domains))))
    clients4 = [bytes([10, 0, i // 256, i % 256 or 1]) for i in range(2000)]
    clients6 = [bytes.fromhex("fd00000000000001") + rng.randbytes(8) for _ in range(500)]
    resolvers4 = [bytes([192, 0, 2, 53]), bytes([192, 0, 2, 54])]
    resolvers6 = [bytes.fromhex("20010db8000000000000000000000053"), bytes.fromhex("20010db8000000000000000000000054")]
    templates = Templates()
    out = PcapWriter(args.out)
    t = float(START)
    while out.count < args.packets:
        t += rng.expovariate(PPS / 2)
        domain, qname, qtype = _pick(rng, domains, weights)
        qwire, rwire, offsets = templates.get(domain, qname, qtype)
        ttl = (domain.ttl - int(t) % domain.ttl) if domain else 900
        txid = rng.randrange(65536)
        v6 = rng.random() < 0.2
        client = rng.choice(clients6 if v6 else clients4)
        server = rng.choice(resolvers6 if v6 else resolvers4)
        sport = rng.randrange(1024, 65536)
        response = patched(rwire, txid, offsets, ttl)
        query = patched(qwire, txid, [], 0)
        roll = rng.random()
        if roll < 0.005:  # spoofing noise: a response nobody asked for
            out.packet(t, server, client, 17, udp(53, sport, patched(rwire, txid ^ 0x5A5A, offsets, ttl)))
        elif roll < 0.015:
            _tcp_exchange(out, t, client, server, sport, query, response)
        else:
            out.packet(t, client, server, 17, udp(sport, 53, query))
            out.packet(t + 0.0004, server, client, 17, udp(53, sport, response))
    out.fh.close()
    print(f"wrote {out.count} packets, {len(templates.cache)} distinct (name, type) to {args.out}")


def _pick(rng: random.Random, domains: list[Domain], weights: list[float]) -> tuple[Domain | None, str, str]:
    domain = domains[bisect.bisect_left(weights, rng.random() * weights[-1])]
    roll = rng.random()
    if roll < 0.07:
        label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randrange(6, 14)))
        return None, f"{label}.{domain.name}.", "A"
    qtype = "A" if roll < 0.62 else "AAAA" if roll < 0.93 else "MX" if roll < 0.97 else "TXT"
    qname = ("www." if rng.random() < 0.3 else "") + domain.name + "."
    return domain, qname, qtype


def _tcp_exchange(out: PcapWriter, t: float, c: bytes, s: bytes, sport: int, query: bytes, response: bytes) -> None:
    cs, ss = 1000, 5000
    q = struct.pack("!H", len(query)) + query
    r = struct.pack("!H", len(response)) + response
    out.packet(t, c, s, 6, tcp(sport, 53, cs, 0, 0x02))
    out.packet(t + 0.0001, s, c, 6, tcp(53, sport, ss, cs + 1, 0x12))
    out.packet(t + 0.0002, c, s, 6, tcp(sport, 53, cs + 1, ss + 1, 0x18, q))
    out.packet(t + 0.0006, s, c, 6, tcp(53, sport, ss + 1, cs + 1 + len(q), 0x18, r))
    out.packet(t + 0.0007, c, s, 6, tcp(sport, 53, cs + 1 + len(q), ss + 1 + len(r), 0x11))
    out.packet(t + 0.0008, s, c, 6, tcp(53, sport, ss + 1 + len(r), cs + 2 + len(q), 0x11))


if __name__ == "__main__":
    main()
