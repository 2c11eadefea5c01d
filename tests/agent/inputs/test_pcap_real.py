"""The pcap input against real traffic: tcpdump captures dig talking to a real BIND 9 on loopback.

One capture (module fixture) holds UDP and TCP queries over IPv4 and IPv6:
A, AAAA, a CNAME chain, MX, TXT with escapes, SRV, NXDOMAIN, NODATA, mixed
case, and an answer too large for UDP (truncated, then retried over TCP by
dig). The input must extract exactly what dig printed. Variants of the same
real packets check spoof protection (queries removed, ids changed).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.agent.inputs import dnsservers as ds
from tests.agent.wire.wirecheck import RR, expected_from_dig, negatives_of, rrs_of
from yapdns.agent.inputs.pcap import PcapFileInput, PcapFileOptions
from yapdns.core.model import Evidence, Observation

QUERIES = [
    ("example.test", "SOA", ""),  # also the readiness probe of dnsservers
    ("www.example.test", "A", ""),
    ("www.example.test", "AAAA", "+tcp"),
    ("nx.example.test", "A", ""),
    ("nx.example.test", "MX", "+tcp"),
    ("onlyv4.example.test", "AAAA", ""),
    ("example.test", "MX", ""),
    ("txt.example.test", "TXT", ""),
    ("_sip._tcp.example.test", "SRV", ""),
    ("big.example.test", "A", ""),  # truncated over UDP, then TCP
    ("Caps.Example.TEST", "A", ""),
]
V6_QUERIES = [("host.example.test", "AAAA", ""), ("mail.example.test", "A", "+tcp")]


class Capture:
    def __init__(self, path: Path, port: int, rrs: set[RR], negatives: set[RR]) -> None:
        self.path, self.port, self.rrs, self.negatives = path, port, rrs, negatives


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    tmp = tmp_path_factory.mktemp("pcap")
    with ds.bind_server(tmp, f'file "{tmp}/unused.dnstap"') as port, ds.tcpdump(tmp / "dig.pcap", f"port {port}"):
        rrs, negatives = expected_from_dig(
            QUERIES, lambda name, t, flag: ds.dig(port, name, t, *([flag] if flag else []))
        )
        rrs6, negatives6 = expected_from_dig(
            V6_QUERIES, lambda name, t, flag: ds.dig(port, name, t, *([flag] if flag else []), server="::1")
        )
    return Capture(tmp / "dig.pcap", port, rrs | rrs6, negatives | negatives6)


def read(path: Path, port: int, **options: object) -> tuple[list[Observation], PcapFileInput]:
    inp = PcapFileInput("cap", PcapFileOptions(paths=[str(path)], ports=[port], **options))  # type: ignore[arg-type]
    out: list[Observation] = []
    inp.run(out.extend, threading.Event(), once=True)
    return out, inp


def test_capture_matches_dig(capture: Capture) -> None:
    observations, inp = read(capture.path, capture.port)
    assert len(capture.rrs) > 90
    assert rrs_of(observations) == capture.rrs
    assert negatives_of(observations) == capture.negatives
    assert {("nx.example.test", "A", "NXDOMAIN"), ("onlyv4.example.test", "AAAA", "NODATA")} <= capture.negatives
    assert all(o.evidence == Evidence.DIRECT and o.source == "pcap" and o.sensor_id is None for o in observations)
    assert inp.counters["truncated_responses"] == 1 and inp.counters["unsolicited_responses"] == 0
    assert inp.stats.error_count == 0
    ttls = {o.ttl for o in observations if o.rdata}
    assert ttls == {3600}


def test_server_address_is_in_the_sensor_id_only_when_asked(capture: Capture) -> None:
    observations, _ = read(capture.path, capture.port, sensor_id="tap1", server_in_sensor_id=True)
    assert {o.sensor_id for o in observations} == {"tap1@127.0.0.1", "tap1@::1"}
    plain, _ = read(capture.path, capture.port, sensor_id="tap1")
    assert {o.sensor_id for o in plain} == {"tap1"}


def test_other_ports_are_not_decoded(capture: Capture) -> None:
    observations, inp = read(capture.path, 53)
    assert observations == []
    assert inp.counters["other_ports"] == inp.stats.lines


def _rewrite(src: Path, dst: Path, change):  # type: ignore[no-untyped-def]
    """Copy a capture packet by packet through ``change(header, packet) -> packet | None`` (libpcap dumper)."""
    import pcapy

    reader = pcapy.open_offline(str(src))
    dumper = reader.dump_open(str(dst))
    while True:
        header, packet = reader.next()
        if header is None:
            break
        new = change(header, packet)
        if new is not None:
            dumper.dump(header, new)
    del dumper


def _count(path: Path, predicate) -> int:  # type: ignore[no-untyped-def]
    import pcapy

    reader, n = pcapy.open_offline(str(path)), 0
    while (packet := reader.next())[0] is not None:
        n += bool(predicate(packet[1]))
    return n


def _is_query(packet: bytes) -> bool | None:
    """QR bit of a UDP DNS packet on loopback Ethernet (None for TCP or other packets)."""
    ethertype = packet[12:14]
    ip = 14
    if ethertype == b"\x08\x00" and packet[ip + 9] == 17:
        return not packet[ip + (packet[ip] & 15) * 4 + 8 + 2] & 0x80
    if ethertype == b"\x86\xdd" and packet[ip + 6] == 17:
        return not packet[ip + 40 + 8 + 2] & 0x80
    return None


def test_responses_without_their_query_are_dropped(capture: Capture, tmp_path: Path) -> None:
    spoofed = tmp_path / "no-udp-queries.pcap"
    _rewrite(capture.path, spoofed, lambda _h, p: None if _is_query(p) else p)
    observations, inp = read(spoofed, capture.port)
    udp_responses = inp.counters["unsolicited_responses"]
    assert udp_responses == _count(capture.path, lambda p: _is_query(p) is False) > 5  # every UDP answer now
    assert all(o.rrtype in ("AAAA", "MX", "A", "CNAME") for o in observations)  # only the TCP exchanges remain
    kept, inp2 = read(spoofed, capture.port, keep_unsolicited=True)
    assert rrs_of(kept) == capture.rrs
    assert inp2.counters["unsolicited_responses"] == udp_responses


def test_a_response_with_another_transaction_id_is_dropped(capture: Capture, tmp_path: Path) -> None:
    def bump_id(_h: object, p: bytes) -> bytes:
        if _is_query(p) is not False:
            return p
        off = 14 + ((p[14] & 15) * 4 + 8 if p[12:14] == b"\x08\x00" else 48)
        return p[:off] + bytes([p[off] ^ 0x55]) + p[off + 1 :]

    changed = tmp_path / "bad-ids.pcap"
    _rewrite(capture.path, changed, bump_id)
    observations, inp = read(changed, capture.port)
    assert inp.counters["unsolicited_responses"] == _count(capture.path, lambda p: _is_query(p) is False)
    assert rrs_of(observations) < capture.rrs


def test_live_capture_on_loopback_matches_dig(tmp_path: Path) -> None:
    from tests.agent.wire.wirecheck import Collector
    from yapdns.agent.inputs.pcap_live import PcapLiveInput, PcapLiveOptions
    from yapdns.core.errors import ConfigurationError

    with ds.bind_server(tmp_path, f'file "{tmp_path}/unused.dnstap"') as port:
        inp = PcapLiveInput("live", PcapLiveOptions(interface="lo", ports=[port], read_timeout_ms=50))
        try:
            inp.open()
        except ConfigurationError as exc:
            pytest.skip(f"no capture permission here: {exc}")
        with Collector(inp.run) as col:
            expected = expected_from_dig(QUERIES, lambda n, t, flag: ds.dig(port, n, t, *([flag] if flag else [])))
            col.wait_for(lambda obs: rrs_of(obs) >= expected[0])
    assert rrs_of(col.observations) == expected[0]
    assert negatives_of(col.observations) == expected[1]
    assert inp.counters["unsolicited_responses"] == 0
