"""``type: log``: log files read line by line (or whole documents) through a format parser.

The input's thread alternates a prospector scan (every ``scan_frequency``)
with polls of its harvesters; when nothing moved it sleeps ``backoff``. Each
poll advances a file's state first and then emits what the lines produced, so
the snapshot taken inside ``emit`` covers exactly the observations emitted
(see ``inputs/base.py``). One parser instance per file: stateful formats
(Zeek headers, multi-line records) never mix files.

What a parser holds between lines is part of the file's state in every
snapshot (``FileState.parser``), so it is committed with the offset and a
restart, or a ``kill -9``, continues exactly; stopping the input therefore
releases nothing. A file with no new data for ``flush_inactive`` (default
``aggregate.window``) has what its parser holds for later lines released
once; a file closed by ``close_inactive`` keeps a partial record in its
state until it grows; a rotated file, or any file in one-shot mode, is
flushed to its end.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from yapdns.agent.config_types import ByteSize, Duration, InputConfig
from yapdns.agent.file_table import FileTable
from yapdns.agent.harvester import DocumentHarvester, LineHarvester
from yapdns.agent.identity import DEFAULT_FINGERPRINT_BYTES, FileState, read_head
from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.parsers import registry as parser_registry
from yapdns.agent.parsers.base import DocumentParser, LineParser, ParserOptions
from yapdns.agent.parsing import MAX_LINE, ParseRun
from yapdns.agent.prospector import Harvester, LogProspector
from yapdns.core.errors import ConfigurationError

log = logging.getLogger(__name__)


class LogSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The keys of a ``type: log`` input besides the common ones."""

    paths: list[str]
    exclude_files: list[str] = []
    scan_frequency: Duration = Duration(10.0)
    backoff: Duration = Duration(0.5)
    close_inactive: Duration = Duration(300.0)
    close_rotated: Duration = Duration(10.0)
    clean_removed: Duration = Duration(86400.0)
    max_line_bytes: ByteSize = ByteSize(MAX_LINE)
    fingerprint_bytes: int = DEFAULT_FINGERPRINT_BYTES
    max_document_bytes: ByteSize = ByteSize(256 << 20)
    stable_after: Duration = Duration(5.0)
    flush_inactive: Duration | None = None  # default: the pipeline's hold_limit (aggregate.window)


class LogInput(AgentInput):
    """Tails the files matching ``paths`` with the parser of ``format``."""

    settings_type = LogSettings

    def __init__(self, name: str, fmt: str, options: ParserOptions, settings: LogSettings) -> None:
        super().__init__(name)
        self.parser_class = parser_registry.parser_class(fmt)
        self.options = options
        self.settings = settings
        excludes = [re.compile(x) for x in settings.exclude_files]
        self.table = FileTable(settings.fingerprint_bytes, defer_limit=max(2.0, 3 * settings.scan_frequency))
        self.prospector = LogProspector(
            settings.paths, excludes, self.table, self._harvester, clean_removed=settings.clean_removed
        )

    @classmethod
    def check_config(cls, config: InputConfig, base_dir: Path, where: str) -> InputConfig:
        settings: LogSettings = config.settings
        if not config.format:
            raise ConfigurationError(f"{where}: missing required key 'format' (see `yapdns formats`)")
        if not settings.paths:
            raise ConfigurationError(f"{where}.paths: list at least one path or glob")
        for i, pattern in enumerate(settings.exclude_files):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(f"{where}.exclude_files[{i}]: not a regular expression: {exc}") from None
        if not 64 <= settings.fingerprint_bytes <= 1 << 20:
            raise ConfigurationError(f"{where}.fingerprint_bytes: must be between 64 and 1048576")
        paths = [
            str(p if Path(p).is_absolute() else base_dir / p) for p in (os.path.expanduser(x) for x in settings.paths)
        ]
        return msgspec.structs.replace(config, settings=msgspec.structs.replace(settings, paths=paths))

    @classmethod
    def from_config(cls, config: InputConfig) -> AgentInput:
        assert config.format is not None
        return cls(config.id, config.format, config.parser_options, config.settings)

    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        next_scan = 0.0
        try:
            while not stop.is_set():
                if not once and time.monotonic() >= next_scan:
                    self.prospector.scan()
                    next_scan = time.monotonic() + self.settings.scan_frequency
                elif once and next_scan == 0.0:
                    self.prospector.scan()
                    next_scan = 1.0
                moved = self._harvest(emit, once)
                if once and not self.prospector.harvesters:
                    return
                if not moved:
                    stop.wait(self.settings.backoff)
        finally:
            self.prospector.close_all()

    def snapshot(self) -> Any:
        for harvester in self.prospector.harvesters.values():
            harvester.sync_state()
        return self.table.snapshot(self.prospector.harvesters)

    def restore(self, state: Any) -> None:
        self.table.restore(state)

    def progress(self) -> tuple[int, int]:
        return self.prospector.progress()

    def _harvest(self, emit: Emit, once: bool) -> bool:
        moved = False
        for sid, harvester in list(self.prospector.harvesters.items()):
            result = harvester.poll()
            if result.truncated:
                emit(self._restart(sid, harvester))
                moved = True
            elif result.advanced:
                emit(result.observations)
                moved = True
            elif self._done(harvester, once):
                emit(harvester.finish() if once or harvester.rotated else harvester.flush_idle() or [])
                self.prospector.close(sid)
            elif harvester.idle_for() >= self.flush_inactive and (released := harvester.flush_idle()) is not None:
                emit(released)
        return moved

    @property
    def flush_inactive(self) -> float:
        """Seconds without new data after which a file's held lines are released."""
        own = self.settings.flush_inactive
        return self.hold_limit if own is None else own

    def _done(self, harvester: Harvester, once: bool) -> bool:
        if once:
            return True
        if isinstance(harvester, DocumentHarvester):
            return harvester.at_eof()
        if not harvester.at_eof():
            return False
        limit = self.settings.close_rotated if harvester.rotated else self.settings.close_inactive
        return harvester.idle_for() >= limit

    def _restart(self, sid: str, old: Harvester) -> list[Any]:
        """Truncated or rewritten in place: flush the old content's parser, start over at 0."""
        log.info("%s: truncated or rewritten; reading it again from the start", old.state.path)
        leftovers = old.drain()
        old.sync_state()  # the old content's state: what a rotated copy of it would resume with
        st = os.fstat(old.fh.fileno())
        state = self.table.fork(old.state, old.state.path, st, read_head(old.fh, self.table.fp_bytes), time.time())
        del self.prospector.harvesters[sid]
        self.prospector.harvesters[state.id] = self._harvester(old.fh, state)
        self.prospector.sizes[state.id] = st.st_size
        return leftovers

    def _harvester(self, fh: BinaryIO, state: FileState) -> Harvester:
        run = ParseRun(self.parser_class(self.options), self.stats)
        s = self.settings
        if issubclass(self.parser_class, LineParser):
            return LineHarvester(fh, state, run, max_line_bytes=s.max_line_bytes, fp_bytes=s.fingerprint_bytes)
        assert issubclass(self.parser_class, DocumentParser)
        return DocumentHarvester(
            fh, state, run, max_bytes=s.max_document_bytes, stable_after=s.stable_after, fp_bytes=s.fingerprint_bytes
        )


INPUT = LogInput
