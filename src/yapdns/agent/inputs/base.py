"""The contract between an agent input and the pipeline.

An input runs in its own thread. It produces normalized observations and
hands them to ``emit`` in small lists; ``emit`` may block (backpressure when
the spool is full), and an input must tolerate that. ``run`` returns when
``stop`` is set (or, with ``once``, when its sources are exhausted). An
input never raises for bad data: it counts it in its ``ParseStats``.

Read positions (exactly-once across restarts): an input that can resume
(files) returns its positions from ``snapshot()``. The pipeline calls
``snapshot()`` inside ``emit``, in the input's own thread, so the snapshot
must already cover the observations being emitted (advance positions first,
then emit). The pipeline writes that snapshot into the spool in the same
durable commit as those observations, and hands the last durable one back to
``restore()`` before ``run`` on the next start. ``checkpoint`` is called once
everything emitted so far is durable; inputs that keep positions elsewhere
persist them there, and only there. What an input holds back (a parser's
pending lines) belongs in the snapshot too, so that stopping or killing the
input loses nothing; an input releases what it holds for a source that has
been quiet for ``hold_limit`` seconds (the pipeline sets it to
``aggregate.window``).

Config (the input-type registry, ``inputs/registry.py``): an input type is
the module ``yapdns.agent.inputs.<type>`` exporting ``INPUT``, a subclass of
``AgentInput``. Its own config keys are the fields of ``settings_type`` (a
msgspec struct; unknown keys are reported by name); ``check_config`` may
validate further, ``from_config`` builds the input: by default
``INPUT(id, settings)``, or ``INPUT(id)`` for a type without settings. The
common keys ``format``, ``sensor`` and ``options`` belong to types that run
a parser (``type: log``); the others refuse them by name.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from yapdns.agent.parsing import ParseStats
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Observation

if TYPE_CHECKING:
    from yapdns.agent.config_types import InputConfig

Emit = Callable[[list[Observation]], None]


class NoSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An input type without settings of its own."""


class AgentInput(ABC):
    """One configured input."""

    name: str  # the input's id in the config, for stats and logs
    settings_type: ClassVar[type[msgspec.Struct]] = NoSettings
    hold_limit: float = 10.0  # seconds a quiet source's held-back data may wait (the pipeline's aggregate.window)

    def __init__(self, name: str) -> None:
        self.name = name
        self.stats = ParseStats()

    @classmethod
    def check_config(cls, config: InputConfig, base_dir: Path, where: str) -> InputConfig:
        """Validate ``config`` beyond its settings' types (raise ``ConfigurationError`` naming ``where``)."""
        for key in ("format", "sensor", "options"):
            if key in config.raw:
                own = ", ".join(f"'{f}'" for f in cls.settings_type.__struct_fields__) or "none"
                raise ConfigurationError(f"{where}.{key}: not a key of type {config.type!r} (its keys: {own})")
        return config

    @classmethod
    def from_config(cls, config: InputConfig) -> AgentInput:
        """Build the input from its validated config entry: ``cls(id, settings)`` (``cls(id)`` without settings)."""
        if cls.settings_type is NoSettings:
            return cls(config.id)
        return cls(config.id, config.settings)  # type: ignore[call-arg]  # the subclass takes its settings

    @abstractmethod
    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        """Produce observations until ``stop`` is set (or the sources end, when ``once``)."""

    def snapshot(self) -> Any:
        """JSON-able read positions covering everything emitted so far (called inside ``emit``)."""
        return None

    def restore(self, state: Any) -> None:  # noqa: B027  (a no-op is the right default)
        """Resume from the last durable ``snapshot()`` (called before ``run``)."""

    def checkpoint(self) -> None:  # noqa: B027  (a no-op is the right default)
        """Everything emitted so far is durable: persist read positions, if any."""

    def progress(self) -> tuple[int, int]:
        """``(done, total)`` bytes for a progress bar in one-shot mode; ``(0, 0)`` if unknown."""
        return (0, 0)

    def stats_dict(self) -> dict[str, object]:
        return {"input": self.name, **self.stats.as_dict(), "bytes": self.stats.bytes}
