"""Live packet capture (``type: pcap_live``): DNS answers sniffed on an interface through libpcap.

libpcap (pcapy-ng, vendored in its wheels) opens the interface (AF_PACKET
on Linux, memory-mapped) and applies the BPF filter in the kernel; the
default filter is built from ``ports`` and also admits IP fragments, which
``port 53`` alone would miss. Packets come in batches (``next_batch``) and go
through the same path as capture files (``session``, ``batchloop``),
so matching, spoof protection and privacy rules are the same. Capturing
needs CAP_NET_RAW (root, or ``setcap cap_net_raw+ep`` on the interpreter).

``run`` returns when ``stop`` is set; with ``once`` it also returns after
``max_packets`` packets (for tests and one-shot captures).
"""

from __future__ import annotations

import collections
import select
import struct
import threading

from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.wire.batchloop import implementation, process_batch
from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor
from yapdns.core.errors import ConfigurationError

BATCH_PACKETS = 1024
_META = struct.Struct("=IIII")


class PcapLiveOptions(CaptureOptions, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of a ``type: pcap_live`` input."""

    interface: str  # e.g. "eth0", or "any"
    bpf: str | None = None  # default: the DNS ports, plus IP fragments
    snaplen: int = 65535
    promiscuous: bool = False
    read_timeout_ms: int = 200  # how long libpcap waits to fill a batch
    max_packets: int = 0  # with ``once``: stop after this many packets (0: only ``stop``)


def default_filter(ports: list[int]) -> str:
    """``port 53``-style filter for ``ports``, plus non-first IPv4 fragments and IPv6 fragments."""
    port_expr = " or ".join(f"port {int(p)}" for p in ports)
    return f"({port_expr}) or (ip and ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)"


class PcapLiveInput(AgentInput):
    """Captures DNS traffic on a network interface."""

    settings_type = PcapLiveOptions  # its keys in agent.yml (inputs/base.py: the input-type registry)

    source = "pcap"

    def __init__(self, name: str, options: PcapLiveOptions) -> None:
        super().__init__(name)
        if not options.ports:
            raise ConfigurationError("pcap_live needs at least one port")
        self.options = options
        self.counters: collections.Counter[str] = collections.Counter()
        self.processor = DnsCaptureProcessor(options, self.stats, self.counters, self.source)
        self._handle: object | None = None

    def open(self) -> None:
        """Open the interface and set the filter (``run`` calls it if needed)."""
        import pcapy

        if self._handle is not None:
            return
        opts = self.options
        try:
            handle = pcapy.open_live(opts.interface, opts.snaplen, opts.promiscuous, opts.read_timeout_ms)
            handle.setfilter(opts.bpf or default_filter(opts.ports))
            handle.setnonblock(1)  # waiting happens in select(), so that ``stop`` is seen promptly
        except pcapy.PcapError as exc:
            raise ConfigurationError(f"cannot capture on {opts.interface!r}: {exc}") from exc
        self._handle = handle

    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        self.open()
        handle = self._handle
        assert handle is not None
        linktype = handle.datalink()  # type: ignore[attr-defined]
        seen = 0
        fd = handle.getfd()  # type: ignore[attr-defined]
        wait = self.options.read_timeout_ms / 1000
        try:
            while not stop.is_set():
                select.select([fd], [], [], wait)
                data, meta = handle.next_batch(BATCH_PACKETS)  # type: ignore[attr-defined]
                if meta:
                    self.processor.expire(_META.unpack_from(meta, 0)[0])
                    process_batch(self.processor, linktype, data, meta)
                    seen += len(meta) // _META.size
                out = self.processor.take()
                for i in range(0, len(out), self.options.batch_size):
                    emit(out[i : i + self.options.batch_size])
                if once and self.options.max_packets and seen >= self.options.max_packets:
                    return
        finally:
            handle.close()  # type: ignore[attr-defined]
            self._handle = None

    def stats_dict(self) -> dict[str, object]:
        return {**super().stats_dict(), "counters": dict(self.counters), "batch_loop": implementation()}


INPUT = PcapLiveInput
OPTIONS = PcapLiveOptions
