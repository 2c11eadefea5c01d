"""The pipeline: inputs → aggregator → spool → shipper, and the order of durability.

* ``emit`` (called by an input in its own thread) folds observations into
  the aggregator and, under the same lock, records the input's ``snapshot()``:
  the positions that cover exactly what the aggregator now holds.
* ``flush`` (every ``aggregate.window`` seconds, when ``aggregate.max_keys``
  is reached, and at shutdown) drains the aggregator into gzip NDJSON
  batches and commits them to the spool *together with* those positions, in
  one fsync; only then is ``registry.json`` rewritten. A file offset is
  therefore never durable before the lines up to it are.
* When the spool is full, ``flush`` waits, so ``emit`` waits, so the inputs
  stop reading (backpressure). With ``spool.on_full: drop`` the folded
  observations are dropped instead and counted, and positions still advance.
* The shipper acknowledges batches in the spool, which deletes a segment only
  when all its batches are acknowledged.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from yapdns import __version__
from yapdns.agent.aggregator import ObservationAggregator
from yapdns.agent.badlines import BadLinesFile
from yapdns.agent.config import AgentConfig
from yapdns.agent.config_types import InputConfig
from yapdns.agent.inputs import registry as input_registry
from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.positions import Checkpoint, PositionsFile, decode_checkpoint, encode_checkpoint
from yapdns.agent.shipper import BatchShipper
from yapdns.agent.spool import DiskSpool
from yapdns.agent.stats import PipelineCounters, ShipperCounters
from yapdns.core import batch as batch_format
from yapdns.core.model import Observation
from yapdns.gcpause import freeze_startup_objects

log = logging.getLogger(__name__)

GZIP_LEVEL = 5


class RunningInput:
    """An input, its thread and its own stop signal."""

    def __init__(self, config: InputConfig, agent_input: AgentInput) -> None:
        self.config = config
        self.input = agent_input
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.failed: str | None = None

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class AgentPipeline:
    """Everything between the inputs and the network, for one data directory."""

    def __init__(self, config: AgentConfig, *, once: bool = False) -> None:
        self.config = config
        self.once = once
        self.spool = DiskSpool(
            config.data_dir / "spool", max_bytes=config.spool.max_bytes, segment_bytes=config.spool.segment_bytes
        )
        self.registry = PositionsFile(config.data_dir)
        self.aggregator = ObservationAggregator()
        self.counters = PipelineCounters()
        self.shipper_counters = ShipperCounters()
        self.inputs: dict[str, RunningInput] = {}
        self._emit_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._snapshots: dict[str, Any] = {}
        self._changed = False
        self._unwritten: tuple[list[tuple[str, int, bytes]], Checkpoint] | None = None
        self._seq = 0
        self._stop_flusher = threading.Event()
        self._stop_shipper = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Recover the spool and the registry, then start shipper, flusher and inputs."""
        recovery = self.spool.open()
        checkpoint = self.registry.load()
        if recovery.checkpoint is not None:
            in_spool = decode_checkpoint(recovery.checkpoint)
            if in_spool.seq > checkpoint.seq:
                checkpoint = in_spool
        self._seq, self._snapshots = checkpoint.seq, dict(checkpoint.inputs)
        self.registry.save(checkpoint)
        self.spool.set_registry_seq(checkpoint.seq)
        log.info(
            "agent %s started: %d batches waiting in the spool%s",
            __version__,
            recovery.batches,
            f", {recovery.corrupt_frames} corrupt frames found" if recovery.corrupt_frames else "",
        )
        shipper = BatchShipper(
            self.spool, self.config.output, self.config.data_dir / "quarantine", self.shipper_counters
        )
        self._spawn("shipper", shipper.run, self._stop_shipper)
        self._spawn("flusher", self._flush_periodically, self._stop_flusher)
        for cfg in self.config.inputs:
            if cfg.enabled:
                self.start_input(cfg)

    def start_input(self, cfg: InputConfig) -> None:
        agent_input = input_registry.input_class(cfg.type).from_config(cfg)
        agent_input.hold_limit = self.config.aggregate.window
        agent_input.stats.bad_lines = BadLinesFile(self.config.data_dir, cfg.id)  # <data>/bad/<id>.ndjson
        agent_input.restore(self._snapshots.get(cfg.id))
        running = RunningInput(cfg, agent_input)
        running.thread = threading.Thread(target=self._run_input, args=(running,), name=f"input:{cfg.id}", daemon=True)
        self.inputs[cfg.id] = running
        running.thread.start()
        log.info("input %s (%s) started", cfg.id, cfg.type, extra={"input": cfg.id})

    def stop_input(self, ident: str, timeout: float = 30.0) -> bool:
        """Stop one input; ``False`` (and it stays listed) if its thread did not end within ``timeout``."""
        running = self.inputs[ident]
        running.stop.set()
        if running.thread is not None:
            running.thread.join(timeout)
        if running.alive:
            log.error("input %s did not stop within %.0f s; it is left running", ident, timeout, extra={"input": ident})
            return False
        del self.inputs[ident]
        log.info("input %s stopped", ident, extra={"input": ident})
        return True

    def inputs_done(self) -> bool:
        return not any(r.alive for r in self.inputs.values())

    def shutdown(self, ship_for: float) -> bool:
        """Stop reading, commit what is folded, ship for up to ``ship_for`` seconds; ``True`` if all acked."""
        for ident in list(self.inputs):
            self.inputs[ident].stop.set()
        self._stop_flusher.set()
        for running in self.inputs.values():
            if running.thread is not None:
                running.thread.join(30.0)
        flushed = self.flush(timeout=ship_for)
        if not flushed:
            log.warning("spool full at shutdown: the last folded observations will be read again at restart")
        drained = self.wait_delivered(ship_for)
        self._stop_shipper.set()
        for thread in self._threads:
            thread.join(self.config.output.timeout + 5)
        self.spool.close()
        return flushed and drained

    def wait_delivered(self, timeout: float | None, stop: threading.Event | None = None) -> bool:
        """Wait until the spool holds no unacknowledged batch (or ``timeout``/``stop``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.spool.pending_batches > 0:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if stop is not None and stop.is_set():
                return False
            time.sleep(0.05)
        return True

    # -- the data path -------------------------------------------------------------

    def emitter(self, running: RunningInput) -> Emit:
        agent_input, limit = running.input, self.config.aggregate.max_keys

        def emit(observations: list[Observation]) -> None:
            with self._emit_lock:
                self.aggregator.add(observations)
                self.counters.observations_in += len(observations)
                self._snapshots[agent_input.name] = agent_input.snapshot()
                self._changed = True
                full = len(self.aggregator) >= limit
            if full:
                self.flush(stop=running.stop)

        return emit

    def flush(self, stop: threading.Event | None = None, timeout: float | None = None) -> bool:
        """Commit the aggregator's content and the positions it covers; ``False`` if it had to wait in vain."""
        if not self._lock_flush(stop):
            return False
        try:
            return self._flush(stop, timeout)
        finally:
            self._flush_lock.release()

    def _lock_flush(self, stop: threading.Event | None) -> bool:
        """Take the flush lock, giving up if ``stop`` is set while another flush waits for spool space."""
        while not self._flush_lock.acquire(timeout=0.2):
            if stop is not None and stop.is_set():
                return False
        return True

    def _flush(self, stop: threading.Event | None, timeout: float | None) -> bool:
        """Under the flush lock: a commit that failed before goes first, then the current window."""
        if self._unwritten is not None and not self._write(*self._unwritten):
            return False
        if not self._changed:
            return True
        drop = self.config.spool.on_full == "drop" and self.spool.is_full()
        if not drop and not self.spool.wait_writable(stop, timeout):
            return False
        with self._emit_lock:
            window = self.aggregator.drain()
            checkpoint = Checkpoint(self._seq + 1, dict(self._snapshots))
            self._changed = False
        if drop:
            self.counters.observations_dropped += len(window)
            log.warning("spool full: dropped %d observations (spool.on_full: drop)", len(window))
            return self._write([], checkpoint)
        return self._write(self._batches(window), checkpoint)

    def _write(self, batches: list[tuple[str, int, bytes]], checkpoint: Checkpoint) -> bool:
        """One spool commit, then the registry file; a failed commit is kept and retried first next time."""
        try:
            self.spool.commit(batches, encode_checkpoint(checkpoint), checkpoint.seq)
        except OSError as exc:
            log.error("spool write failed (%s); will retry", exc)
            self.counters.commit_failures += 1
            self._unwritten = (batches, checkpoint)
            return False
        self._unwritten = None
        self._seq = checkpoint.seq
        self.registry.save(checkpoint)
        self.spool.set_registry_seq(checkpoint.seq)
        c = self.counters
        c.commits += 1
        c.observations_spooled += sum(b[1] for b in batches)
        c.batches_spooled += len(batches)
        for running in list(self.inputs.values()):
            running.input.checkpoint()
        return True

    def _batches(self, window: Iterable[Observation]) -> list[tuple[str, int, bytes]]:
        """gzip NDJSON batches of ``output.batch_size`` observations, encoded as the window is read."""
        out = []
        observations = iter(window)
        while chunk := list(itertools.islice(observations, self.config.output.batch_size)):
            body, count = _encode(chunk)
            if count:
                batch_id = f"{int(time.time()):x}-{uuid.uuid4().hex}"
                out.append((batch_id, count, gzip.compress(body, GZIP_LEVEL, mtime=0)))
        return out

    # -- threads -------------------------------------------------------------------

    def _run_input(self, running: RunningInput) -> None:
        try:
            running.input.run(self.emitter(running), running.stop, self.once)
        except Exception as exc:
            running.failed = f"{type(exc).__name__}: {exc}"
            log.exception("input %s failed", running.config.id, extra={"input": running.config.id})

    def _flush_periodically(self, stop: threading.Event) -> None:
        while not stop.wait(self.config.aggregate.window):
            self.flush(stop=stop)

    def _spawn(self, name: str, target: Any, stop: threading.Event) -> None:
        thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- stats -----------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        inputs = []
        for ident, running in self.inputs.items():
            state = "failed" if running.failed else "running" if running.alive else "done"
            entry = {**running.input.stats_dict(), "id": ident, "type": running.config.type, "state": state}
            inputs.append({**entry, "failure": running.failed} if running.failed else entry)
        with self._emit_lock:
            keys = len(self.aggregator)
        return {
            "agent": {"version": __version__, "config": self.config.source},
            "inputs": inputs,
            "aggregator": {"keys": keys, "observations_in": self.aggregator.observations_in},
            "pipeline": self.counters.as_dict(),
            "spool": self.spool.stats(),
            "shipper": self.shipper_counters.as_dict(),
        }

    def progress(self) -> tuple[int, int]:
        done = total = 0
        for running in self.inputs.values():
            d, t = running.input.progress()
            done, total = done + d, total + t
        return done, total


def _encode(observations: list[Observation]) -> tuple[bytes, int]:
    """NDJSON of the observations; one that cannot be encoded is logged and left out."""
    try:
        return batch_format.encode_ndjson(observations), len(observations)
    except (msgspec.EncodeError, UnicodeEncodeError):
        lines = []
        for obs in observations:
            try:
                lines.append(batch_format.encode_ndjson([obs]))
            except (msgspec.EncodeError, UnicodeEncodeError) as exc:
                log.error("observation cannot be encoded, left out: %r (%s)", obs.rrname, exc)
        return b"".join(lines), len(lines)


def load_inputs_and_freeze(config: AgentConfig) -> None:
    """For an agent process: import every configured input's code, then freeze what exists (``gcpause``).

    The inputs' modules hold the big caches; once frozen, the cyclic GC no longer walks them. Library users
    (tests, benchmarks) that start pipelines in their own process leave their GC alone unless they call this.
    """
    for cfg in config.inputs:
        input_registry.input_class(cfg.type)
    freeze_startup_objects()
