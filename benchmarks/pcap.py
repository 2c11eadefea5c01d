"""Packets/s and observations/s of the pcap input; optionally the same for gamelinux passivedns, and the sets compared.

    python benchmarks/make_dns_pcap.py /tmp/dns-1m.pcap          # once
    python benchmarks/pcap.py /tmp/dns-1m.pcap [--passivedns /path/to/passivedns] [--repeat 5] [--profile]

With ``--repeat N`` both are run N times, alternately, each of ours in a fresh
process (a second pass in one process would find every layout cached), and
the median of the N ratios is printed: on a shared machine one pair can be off
by ±20 %, and alternating keeps both sides under the same conditions.

Rates are per CPU second of the one process doing the work (user + system,
from getrusage), which is what "on one core" means on a shared machine; the
wall-clock rate is printed too. passivedns is not built or shipped by this
project: docs/performance.md says how it was built for the comparison.

The set comparison projects both outputs onto what passivedns prints:
``(name, type, answer)`` where passivedns keeps only the host of MX, the
target of SRV, the primary of SOA; negatives are (name, type, rcode) for
error rcodes (passivedns does not record NODATA).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from yapdns.agent.inputs.pcap import PcapFileInput, PcapFileOptions
from yapdns.agent.wire.batchloop import c_helpers, implementation
from yapdns.core.model import Observation
from yapdns.core.names import normalize_name
from yapdns.gcpause import freeze_startup_objects

Key = tuple[str, str, str]


def cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_ours(path: Path, profile: bool) -> tuple[list[Observation], PcapFileInput, float, float]:
    inp = PcapFileInput("bench", PcapFileOptions(paths=[str(path)]))
    freeze_startup_objects()  # as the agent does once its inputs are started (yapdns.gcpause)
    out: list[Observation] = []
    prof = cProfile.Profile() if profile else None
    wall, start = time.perf_counter(), cpu()
    if prof:
        prof.enable()
    inp.run(out.extend, threading.Event(), once=True)
    if prof:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    return out, inp, cpu() - start, time.perf_counter() - wall


def project(obs: Observation) -> set[Key]:
    if not obs.rdata:
        return set() if obs.rcode == "NODATA" else {(obs.rrname, obs.rrtype, obs.rcode or "")}
    out = set()
    field = {"MX": 1, "SOA": 0, "SRV": 3}.get(obs.rrtype)
    for rdata in obs.rdata:
        out.add((obs.rrname, obs.rrtype, rdata if field is None else rdata.split()[field]))
    return out


def run_passivedns(exe: str, path: Path) -> tuple[set[Key], int, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        log, nxlog = Path(tmp) / "pdns.log", Path(tmp) / "pdns.nx"
        cmd = [exe, "-r", str(path), "-l", str(log), "-L", str(nxlog), "-X", "46CDNPRSTMnOxfsoryetaz"]
        wall, start = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, check=True, capture_output=True)
        spent, wall = cpu(resource.RUSAGE_CHILDREN) - start, time.perf_counter() - wall
        keys, lines = set(), 0
        for line in [*log.read_text().splitlines(), *nxlog.read_text().splitlines()]:
            fields = line.split("||")
            if len(fields) != 9:
                continue
            lines += 1
            name, rrtype, answer = normalize_name(fields[4]), fields[5], fields[6]
            if answer.endswith(".") and rrtype not in ("TXT",):
                answer = normalize_name(answer)
            keys.add((name, rrtype, answer))
    return keys, lines, spent, wall


def ours_in_a_fresh_process(path: Path, python: bool) -> float:
    """CPU seconds of one cold run of ours, in a child process."""
    command = [sys.executable, __file__, str(path), "--cpu-only", *(["--python"] if python else [])]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def repeat(path: Path, exe: str, times: int, packets: int, first: tuple[float, float], python: bool) -> None:
    """Ours and passivedns alternately, ``times`` pairs in all (``first`` is the pair already run)."""
    pairs = [first]
    for _ in range(times - 1):
        ours = ours_in_a_fresh_process(path, python)
        pairs.append((ours, run_passivedns(exe, path)[2]))
    ratios = sorted(theirs / ours for ours, theirs in pairs)
    print(f"{times} alternating pairs, packets/s per CPU s (ours / passivedns = ratio):")
    for ours, theirs in pairs:
        print(f"  {packets / ours:,.0f} / {packets / theirs:,.0f} = {theirs / ours:.2f}")
    print(f"median ratio {statistics.median(ratios):.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f}); "
          f"load average after: {os.getloadavg()}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcap", type=Path)
    ap.add_argument("--passivedns", help="path to a passivedns binary to compare with")
    ap.add_argument("--repeat", type=int, default=1, help="with --passivedns: run both this many times, alternately")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--python", action="store_true", help="without the C helpers (the Python reference code)")
    ap.add_argument("--cpu-only", action="store_true", help=argparse.SUPPRESS)  # one run of ours, for --repeat
    args = ap.parse_args()
    if args.python:  # the Python code the C helpers replace, as where they are not built
        for module, name in c_helpers():
            setattr(module, name, None)
    if args.cpu_only:
        print(run_ours(args.pcap, profile=False)[2])
        return
    print(f"load average before: {os.getloadavg()}; batch loop: {implementation()}")
    out, inp, spent, wall = run_ours(args.pcap, args.profile)
    packets = inp.stats.lines
    sightings = sum(o.count for o in out)
    print(f"yapdns pcap: {packets} packets in {spent:.2f} CPU s ({wall:.2f} s wall)")
    print(f"  {packets / spent:,.0f} packets/s per CPU s ({packets / wall:,.0f} wall)")
    print(f"  {sightings / spent:,.0f} RRset sightings/s; {len(out)} observations emitted after in-batch folding")
    print(f"  counters: {dict(inp.counters)}; errors: {dict(inp.stats.errors)}")
    if not args.passivedns:
        return
    theirs, lines, pspent, pwall = run_passivedns(args.passivedns, args.pcap)
    print(f"passivedns: {packets / pspent:,.0f} packets/s per CPU s ({packets / pwall:,.0f} wall), {lines} lines")
    print(f"ratio ours / passivedns (packets per CPU s): {pspent / spent:.2f}; load average after: {os.getloadavg()}")
    ours = set().union(*(project(o) for o in out))
    print(f"sets: ours {len(ours)}, passivedns {len(theirs)}, common {len(ours & theirs)}")
    for label, diff in (("only ours", ours - theirs), ("only passivedns", theirs - ours)):
        print(f"  {label}: {len(diff)} e.g. {sorted(diff)[:5]}")
    if args.repeat > 1:
        repeat(args.pcap, args.passivedns, args.repeat, packets, (spent, pspent), args.python)


if __name__ == "__main__":
    main()
