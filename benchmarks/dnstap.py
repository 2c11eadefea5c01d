"""dnstap frames/s and observations/s of the dnstap file input.

    python benchmarks/make_dns_pcap.py /tmp/dns-1m.pcap                     # once
    python benchmarks/dnstap.py --make /tmp/dns.dnstap --from-pcap /tmp/dns-1m.pcap   # once
    python benchmarks/dnstap.py /tmp/dns.dnstap [--python]

``--make`` wraps every DNS response of the capture in a dnstap CLIENT_RESPONSE
(with the query, addresses and times of the capture, as a resolver would log
it) inside a Frame Streams file. Rates are per CPU second of this process.
"""

from __future__ import annotations

import argparse
import resource
import struct
import sys
import threading
import time
from pathlib import Path

import pcapy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from yapdns.agent.inputs.dnstap import DnstapFileInput, DnstapFileOptions
from yapdns.agent.wire import dnstap_pb2 as pb
from yapdns.agent.wire.batchloop import c_helpers
from yapdns.agent.wire.fstrm import CONTENT_TYPE, START, STOP, encode_control, encode_data
from yapdns.core.model import Observation


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make(out: Path, capture: Path) -> None:
    reader = pcapy.open_offline(str(capture))
    frames = 0
    with out.open("wb") as fh:
        fh.write(encode_control(START, (CONTENT_TYPE,)))
        while (packet := reader.next())[0] is not None:
            header, data = packet
            if data[12:14] != b"\x08\x00" or data[23] != 17 or not data[44] & 0x80:
                continue  # IPv4/UDP responses only
            sec, usec = header.getts()
            msg = pb.Message(
                type=pb.Message.CLIENT_RESPONSE, socket_family=pb.INET, socket_protocol=pb.UDP,
                query_address=data[30:34], response_address=data[26:30],
                query_port=struct.unpack_from("!H", data, 36)[0], response_port=53,
                query_time_sec=sec, query_time_nsec=usec * 1000, response_time_sec=sec,
                response_time_nsec=usec * 1000 + 400_000, response_message=data[42:],
            )
            tap = pb.Dnstap(identity=b"resolver-1", version=b"bench", type=pb.Dnstap.MESSAGE, message=msg)
            fh.write(encode_data(tap.SerializeToString()))
            frames += 1
        fh.write(encode_control(STOP))
    print(f"wrote {frames} frames to {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path, nargs="?")
    ap.add_argument("--make", type=Path)
    ap.add_argument("--from-pcap", type=Path)
    ap.add_argument("--python", action="store_true", help="without the C helpers (the Python reference code)")
    args = ap.parse_args()
    if args.python:  # the Python code the C helpers replace, as where they are not built
        for module, name in c_helpers():
            setattr(module, name, None)
    if args.make:
        make(args.make, args.from_pcap)
        return
    inp = DnstapFileInput("bench", DnstapFileOptions(paths=[str(args.file)]))
    out: list[Observation] = []
    wall, start = time.perf_counter(), cpu()
    inp.run(out.extend, threading.Event(), once=True)
    spent, wall = cpu() - start, time.perf_counter() - wall
    frames = inp.stats.lines
    print(f"dnstap file: {frames} frames in {spent:.2f} CPU s ({wall:.2f} s wall)")
    print(f"  {frames / spent:,.0f} frames/s per CPU s ({frames / wall:,.0f} wall)")
    print(f"  {len(out) / spent:,.0f} observations/s ({len(out)} observations)")
    print(f"  counters: {dict(inp.counters)}; errors: {dict(inp.stats.errors)}")


if __name__ == "__main__":
    main()
