"""pcap and pcapng files (``type: pcap``): DNS answers seen on the wire, with spoof protection.

Files are read through libpcap (pcapy-ng, whose wheels vendor it), which
knows both formats, every timestamp precision and every link type; packets
come in batches to keep the per-packet cost on the Python side. Each file
matching ``paths`` (globs) is read once, in name order; without ``once`` the
globs are polled for new files (e.g. ``tcpdump -G`` rotation; a file is
taken once it has not grown for ``settle_seconds``). Matching, decoding and
privacy rules are those of ``session``. Capture timestamps are UTC.
"""

from __future__ import annotations

import collections
import glob
import os
import struct
import threading
import time

from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.wire.batchloop import implementation, process_batch
from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor

BATCH_PACKETS = 4096
EMIT_PACKETS = 262_144  # repeats are folded over this many packets of a file (session: ``take``)
EMIT_RRSETS = 100_000  # or until this many distinct RRsets are pending
_META = struct.Struct("=IIII")


class PcapFileOptions(CaptureOptions, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of a ``type: pcap`` input."""

    paths: list[str]  # files or globs
    bpf: str | None = None  # optional libpcap filter applied while reading
    poll_interval: float = 2.0
    settle_seconds: float = 5.0


class PcapFileInput(AgentInput):
    """Reads pcap/pcapng files and extracts the DNS answers they carry."""

    settings_type = PcapFileOptions  # its keys in agent.yml (inputs/base.py: the input-type registry)

    source = "pcap"

    def __init__(self, name: str, options: PcapFileOptions) -> None:
        super().__init__(name)
        self.options = options
        self.counters: collections.Counter[str] = collections.Counter()
        self.processor = DnsCaptureProcessor(options, self.stats, self.counters, self.source)
        self._done: set[tuple[int, int]] = set()

    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        while not stop.is_set():
            for path in self._ready_files(settle=0.0 if once else self.options.settle_seconds):
                self.read_file(path, emit, stop)
            if once:
                return
            stop.wait(self.options.poll_interval)

    def stats_dict(self) -> dict[str, object]:
        return {**super().stats_dict(), "counters": dict(self.counters), "batch_loop": implementation()}

    def read_file(self, path: str, emit: Emit, stop: threading.Event) -> None:
        """Read one capture file to its end (or until ``stop``)."""
        import pcapy

        try:
            reader = pcapy.open_offline(path)
            if self.options.bpf:
                reader.setfilter(self.options.bpf)
        except pcapy.PcapError as exc:
            self.stats.bad(0, "bad_capture_file", str(exc), path)
            return
        self.counters["files"] += 1
        linktype = reader.datalink()
        done = emitted = 0
        while not stop.is_set():
            try:
                data, meta = reader.next_batch(BATCH_PACKETS)
            except pcapy.PcapError:  # a file cut short mid-packet: the batch is lost, re-read it one by one
                self._tail_one_by_one(path, done, linktype)
                break
            if not meta:
                break
            self._batch(linktype, data, meta)
            done += len(meta) // _META.size
            if done - emitted >= EMIT_PACKETS or self.processor.pending() >= EMIT_RRSETS:
                self._emit(emit)
                emitted = done
        self._emit(emit)

    def _tail_one_by_one(self, path: str, skip: int, linktype: int) -> None:
        import pcapy

        reader = pcapy.open_offline(path)
        if self.options.bpf:
            reader.setfilter(self.options.bpf)
        for _ in range(skip):
            reader.next()
        while True:
            try:
                header, packet = reader.next()
            except pcapy.PcapError as exc:
                self.stats.bad(self.stats.lines, "truncated_capture", str(exc), path)
                return
            if header is None:
                return
            sec, usec = header.getts()
            self.processor.packet(linktype, sec + usec / 1e6, packet)

    def _batch(self, linktype: int, data: bytes, meta: bytes) -> None:
        if meta:
            self.processor.expire(_META.unpack_from(meta, 0)[0])
        process_batch(self.processor, linktype, data, meta)

    def _emit(self, emit: Emit) -> None:
        out = self.processor.take()
        size = self.options.batch_size
        for i in range(0, len(out), size):
            emit(out[i : i + size])

    def _ready_files(self, settle: float) -> list[str]:
        ready = []
        for pattern in self.options.paths:
            for path in sorted(glob.glob(pattern)):
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                fid = (st.st_dev, st.st_ino)
                if fid in self._done or (settle and time.time() - st.st_mtime < settle):
                    continue
                self._done.add(fid)
                ready.append(path)
        return ready


INPUT = PcapFileInput
OPTIONS = PcapFileOptions
