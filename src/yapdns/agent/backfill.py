"""One-shot mode (``yapdns agent --once``): read the inputs to their end, ship, wait for the acks.

Same pipeline and guarantees as the long-running agent (spool, registry,
batch ids), with a progress bar. The outcome is an exit status: 0 when every
batch was acknowledged and none was quarantined, 1 otherwise (interrupted,
timed out, quarantined batches, a failed input), with the reason printed.
Because the registry and spool live in ``path.data``, running the same
command again after a failure ships what is left and does not read the
files twice.
"""

from __future__ import annotations

import signal
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from yapdns.agent.config import AgentConfig
from yapdns.agent.pipeline import AgentPipeline
from yapdns.agent.service import data_dir_lock
from yapdns.agent.stats import stamp, write_stats

POLL = 0.1


class BackfillOutcome:
    """What a one-shot run achieved, for the summary and the exit status."""

    def __init__(self, stats: dict[str, object], delivered: bool, interrupted: bool, timing: dict[str, float]) -> None:
        self.stats = stats
        self.delivered = delivered
        self.interrupted = interrupted
        self.timing = timing  # read_seconds (when the end was reached), total_seconds

    @property
    def problems(self) -> list[str]:
        shipper: dict[str, int] = self.stats["shipper"]  # type: ignore[assignment]
        inputs: list[dict[str, object]] = self.stats["inputs"]  # type: ignore[assignment]
        out = []
        if self.interrupted:
            out.append("interrupted")
        if not self.delivered:
            out.append(f"{self.stats['spool']['batches']} batches not delivered (kept in the spool)")  # type: ignore[index]
        if shipper["batches_quarantined"]:
            out.append(f"{shipper['batches_quarantined']} batches quarantined (refused by the server)")
        out += [f"input {i['id']} failed: {i.get('failure')}" for i in inputs if i.get("state") == "failed"]
        return out


def run_once(config: AgentConfig, *, timeout: float | None = None, console: Console | None = None) -> BackfillOutcome:
    """Run the configured inputs once to their end and wait until everything is acknowledged."""
    console = console or Console(stderr=True)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda s, f: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with data_dir_lock(config.data_dir):
            pipeline = AgentPipeline(config, once=True)
            started = time.monotonic()
            pipeline.start()
            timing: dict[str, float] = {}
            delivered = _drive(pipeline, stop, timeout, console, timing)
            pipeline.shutdown(ship_for=0.0)
            timing["total_seconds"] = time.monotonic() - started
            stats = {**pipeline.stats(), "backfill": timing}
            write_stats(config.data_dir, stamp(stats))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return BackfillOutcome(stats, delivered, stop.is_set(), timing)


def _drive(
    pipeline: AgentPipeline, stop: threading.Event, timeout: float | None, console: Console, timing: dict[str, float]
) -> bool:
    """Read to the end, commit, wait for the acknowledgements; ``timing`` gets how long the reading took."""
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    with _progress(console) as progress:
        read = progress.add_task("read", total=None, detail="")
        shipped = progress.add_task("delivered", total=None, detail="")
        while not stop.is_set() and not pipeline.inputs_done():
            _update(progress, read, shipped, pipeline)
            if deadline is not None and time.monotonic() >= deadline:
                return False
            stop.wait(POLL)
        if stop.is_set():
            return False
        pipeline.flush(stop=stop, timeout=None if deadline is None else max(deadline - time.monotonic(), 0))
        timing["read_seconds"] = time.monotonic() - started  # read, parsed, folded and spooled
        while pipeline.spool.pending_batches > 0:
            _update(progress, read, shipped, pipeline)
            if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                return False
            stop.wait(POLL)
        _update(progress, read, shipped, pipeline)
    return True


def _update(progress: Progress, read: TaskID, shipped: TaskID, pipeline: AgentPipeline) -> None:
    done, total = pipeline.progress()
    detail = f"{done / 2**20:,.1f} / {total / 2**20:,.1f} MiB, {pipeline.counters.observations_in:,} observations"
    progress.update(read, completed=done, total=total or None, detail=detail)
    shipper = pipeline.shipper_counters
    spooled = pipeline.counters.batches_spooled
    acked = shipper.batches_acked + shipper.batches_quarantined
    detail = f"{acked:,} / {max(spooled, acked):,} batches, {shipper.observations_accepted:,} accepted"
    progress.update(shipped, completed=acked, total=max(spooled, acked) or None, detail=detail)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:>9}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
