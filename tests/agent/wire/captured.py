"""The committed BIND 9 fixtures (tests/agent/inputs/data, see its PROVENANCE.txt) and the DNS messages inside them."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pcapy

from tests.agent.inputs import dnsservers as ds
from tests.agent.wire.wirecheck import RR, normalized_dig
from yapdns.agent.inputs.pcap import PcapFileInput, PcapFileOptions
from yapdns.core.model import Observation
from yapdns.core.names import normalize_name

DATA = Path(__file__).parents[1] / "inputs" / "data"  # shared with the input tests
PCAP = DATA / "bind9_dig_loopback.pcap"
PCAPNG = DATA / "bind9_dig_loopback.pcapng"
DNSTAP = DATA / "bind9_auth_client.dnstap"
_DIG = json.loads((DATA / "bind9_dig_loopback.dig.json").read_text())
PORT: int = _DIG["port"]


def dig_expectation() -> tuple[set[RR], set[RR]]:
    """The RRs and negative answers dig printed when the fixtures were recorded."""
    from tests.agent.wire.wirecheck import _chain_end

    rrs: set[RR] = set()
    negatives: set[RR] = set()
    for q in _DIG["queries"]:
        answers = normalized_dig(q["dig"])
        rrs |= answers
        end = _chain_end(normalize_name(q["name"]), answers)
        status = ds.dig_status(q["dig"])
        if status != "NOERROR":
            negatives.add((end, q["type"], status))
        elif not any(owner == end and t == q["type"] for owner, t, _ in answers):
            negatives.add((end, q["type"], "NODATA"))
    return rrs, negatives


def packets(path: Path = PCAP) -> list[bytes]:
    reader = pcapy.open_offline(str(path))
    out = []
    while (packet := reader.next())[0] is not None:
        out.append(packet[1])
    return out


def udp_dns_payloads() -> list[bytes]:
    """The DNS message of every UDP packet in the capture (Ethernet on lo, IPv4 or IPv6)."""
    out = []
    for p in packets():
        if p[12:14] == b"\x08\x00" and p[23] == 17:
            out.append(p[14 + (p[14] & 15) * 4 + 8 :])
        elif p[12:14] == b"\x86\xdd" and p[20] == 17:
            out.append(p[62:])
    return out


def read_capture(path: Path, **options: object) -> tuple[list[Observation], PcapFileInput]:
    opts = PcapFileOptions(paths=[str(path)], ports=[PORT], **options)  # type: ignore[arg-type]
    inp = PcapFileInput("fixture", opts)
    out: list[Observation] = []
    inp.run(out.extend, threading.Event(), once=True)
    return out, inp


def dnstap_frames() -> list[bytes]:
    """The data frames of BIND's dnstap file (its dnstap protobuf payloads, in order)."""
    from yapdns.agent.wire.fstrm import FrameDecoder

    dec = FrameDecoder()
    dec.feed(DNSTAP.read_bytes())
    return [f.payload for f in dec.frames() if not f.control]
