"""``type: bad_lines``: lines a log input set aside (``agent/badlines.py``), fed again through a line parser.

``yapdns agent --replay-bad INPUT`` builds this input from INPUT's own
``format``, ``sensor`` and ``options`` (``agent/replay.py``); it can also be
written in ``agent.yml``. Each file of ``paths`` is read once, in order, its
entries through one parser instance (a stateful format sees them out of their
first context: a line that needed its neighbours may fail again). Each line
is parsed as if read again at its own file and line number, so a line that
is still bad is set aside again where it came from. Entries that repeat one
already read (the same file, line number and text: set aside twice around a
crash) are skipped and counted (``repeated_entries``), as are entries that
cannot be read (``unreadable_entries``).
"""

from __future__ import annotations

import collections
import threading
from pathlib import Path
from typing import Any

import msgspec

from yapdns.agent.badlines import read_entries
from yapdns.agent.config_types import InputConfig
from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.parsers import registry as parser_registry
from yapdns.agent.parsers.base import LineParser, ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Observation

EMIT_ENTRIES = 1000


class BadLinesSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The keys of a ``type: bad_lines`` input besides the common ones."""

    paths: list[str]  # bad-lines files (``<path.data>/bad/<id>.ndjson`` and its ``.1``), read in this order


class BadLinesInput(AgentInput):
    """Feeds set-aside lines through the parser of ``format``."""

    settings_type = BadLinesSettings

    def __init__(self, name: str, fmt: str, options: ParserOptions, settings: BadLinesSettings) -> None:
        super().__init__(name)
        self.parser_class = parser_registry.parser_class(fmt)
        self.options = options
        self.paths = [Path(p) for p in settings.paths]
        self.done: dict[str, int] = {}  # entries read per path: the read positions
        self.counters: collections.Counter[str] = collections.Counter()

    @classmethod
    def check_config(cls, config: InputConfig, base_dir: Path, where: str) -> InputConfig:
        if not config.format:
            raise ConfigurationError(f"{where}: missing required key 'format' (see `yapdns formats`)")
        if not issubclass(parser_registry.parser_class(config.format), LineParser):
            raise ConfigurationError(f"{where}.format: {config.format!r} reads whole documents, not lines")
        settings: BadLinesSettings = config.settings
        paths = [str(p if Path(p).is_absolute() else base_dir / p) for p in settings.paths]
        return msgspec.structs.replace(config, settings=msgspec.structs.replace(settings, paths=paths))

    @classmethod
    def from_config(cls, config: InputConfig) -> AgentInput:
        assert config.format is not None
        return cls(config.id, config.format, config.parser_options, config.settings)

    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        seen: set[tuple[str, int, str]] = set()
        for path in self.paths:
            if stop.is_set():
                return
            if path.exists():
                self._replay(path, seen, emit, stop)
        if not once:
            stop.wait()

    def _replay(self, path: Path, seen: set[tuple[str, int, str]], emit: Emit, stop: threading.Event) -> None:
        run = ParseRun(self.parser_class(self.options), self.stats)
        assert isinstance(run.parser, LineParser)
        skip = self.done.get(str(path), 0)
        out: list[Observation] = []
        n = skip
        for n, entry in enumerate(read_entries(path), start=1):
            if n <= skip:  # read before a restart: only remembered, to skip its repeats
                if entry is not None:
                    seen.add((entry.file, entry.line_no, entry.text()))
                continue
            if entry is None:
                self.counters["unreadable_entries"] += 1
            elif (key := (entry.file, entry.line_no, entry.text())) in seen:
                self.counters["repeated_entries"] += 1
            else:
                seen.add(key)
                self.stats.origin = entry.file
                out += run.line(key[2], entry.line_no)
            if n % EMIT_ENTRIES == 0:
                self.done[str(path)] = n  # positions first, then the observations they cover (inputs/base.py)
                emit(out)
                out = []
                if stop.is_set():
                    return
        self.done[str(path)] = max(n, skip)
        emit(out + run.flush())

    def snapshot(self) -> Any:
        return {"done": dict(self.done)}

    def restore(self, state: Any) -> None:
        if isinstance(state, dict) and isinstance(state.get("done"), dict):
            self.done = {str(k): int(v) for k, v in state["done"].items()}

    def stats_dict(self) -> dict[str, object]:
        return {**super().stats_dict(), "counters": dict(self.counters)}


INPUT = BadLinesInput
