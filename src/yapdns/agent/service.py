"""The long-running agent: signals, config reload, periodic stats, graceful shutdown.

* SIGTERM / SIGINT: stop reading, commit what the aggregator holds (with the
  positions it covers), try to ship for ``output.shutdown_timeout`` seconds,
  exit. What is not shipped stays in the spool for the next start.
* SIGHUP: read the config file again; inputs added, removed or changed are
  started and stopped (a changed input resumes from its positions). Other
  sections need a restart, which the log says.
* Every ``stats.period`` a summary line is logged and ``<data>/stats.json``
  rewritten (what ``yapdns agent --stats`` prints).

Only one agent may use a data directory: ``<data>/agent.lock`` is locked.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from yapdns.agent.config import AgentConfig, load_config
from yapdns.agent.pipeline import AgentPipeline, load_inputs_and_freeze
from yapdns.agent.stats import stamp, summary_line, write_stats
from yapdns.core.errors import ConfigurationError, YapdnsError
from yapdns.core.logformat import formatter
from yapdns.core.private import exposed, private_dir

log = logging.getLogger(__name__)

LOCK_FILE = "agent.lock"
STATS_WRITE_INTERVAL = 5.0


@contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold ``<data>/agent.lock`` exclusively; refuse to start if another agent holds it."""
    private_dir(data_dir)
    for item in exposed(data_dir):
        log.warning("agent data readable by group or others: %s (chmod 700 the directory, 600 its files)", item)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError(f"another agent is using the data directory {data_dir}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def setup_logging(level: str, log_format: str = "plain") -> None:
    """Log to standard error at ``level``, as ``plain`` text or ``json`` lines (``core/logformat.py``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler])
    logging.getLogger("httpx").setLevel(logging.WARNING)


class AgentService:
    """Runs one pipeline until a signal says otherwise."""

    def __init__(self, config: AgentConfig, config_path: Path | None) -> None:
        self.config = config
        self.config_path = config_path
        self.pipeline = AgentPipeline(config)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()

    def run(self) -> int:
        with data_dir_lock(self.config.data_dir):
            load_inputs_and_freeze(self.config)
            self._install_signals()
            self.pipeline.start()
            self._start_metrics()
            self._loop()
            delivered = self.pipeline.shutdown(self.config.output.shutdown_timeout)
            self._write_stats()
            log.info("agent stopped%s", "" if delivered else "; undelivered batches stay in the spool")
        return 0

    def _start_metrics(self) -> None:
        settings = self.config.metrics
        if not settings.enabled:
            return
        from yapdns.agent.metrics import AgentCollector, start_listener

        collector = AgentCollector(self.pipeline.stats, self.pipeline.spool.backlog_age)
        start_listener(settings.host, settings.port, collector)

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()
        self._wake.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self._reload.set()
        self._wake.set()

    def _loop(self) -> None:
        next_stats = next_log = time.monotonic()
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            if self._stop.is_set():
                return
            now = time.monotonic()
            if now >= next_stats:
                self._write_stats()
                next_stats = now + min(STATS_WRITE_INTERVAL, self.config.stats.period)
            if now >= next_log:
                log.info("%s", summary_line(self.pipeline.stats()))
                next_log = now + self.config.stats.period

    def reload(self) -> None:
        """Apply the inputs of the config file as it is now."""
        if self.config_path is None:
            return
        try:
            fresh = load_config(self.config_path)
        except YapdnsError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return
        wanted = {c.id: c for c in fresh.inputs if c.enabled}
        for ident, running in list(self.pipeline.inputs.items()):
            if ident not in wanted or wanted[ident].raw != running.config.raw:
                self.pipeline.stop_input(ident)
        for ident, cfg in wanted.items():
            if ident not in self.pipeline.inputs:
                self.pipeline.start_input(cfg)
        if (fresh.output, fresh.aggregate, fresh.spool, fresh.data_dir) != (
            self.config.output,
            self.config.aggregate,
            self.config.spool,
            self.config.data_dir,
        ):
            log.warning("reload: only inputs are reloaded; restart the agent to apply the other changes")
        log.info("config reloaded: %d inputs", len(self.pipeline.inputs))

    def _write_stats(self) -> None:
        try:
            write_stats(self.config.data_dir, stamp(self.pipeline.stats()))
        except OSError as exc:
            log.warning("cannot write stats: %s", exc)
