"""The contract between an agent input and the pipeline.

An input runs in its own thread. It produces normalized observations and
hands them to ``emit`` in small lists; ``emit`` may block (backpressure when
the spool is full), and an input must tolerate that. ``run`` returns when
``stop`` is set (or, with ``once``, when its sources are exhausted). An
input never raises for bad data: it counts it in its ``ParseStats``.

``checkpoint`` is called by the pipeline once everything emitted so far is
durable in the spool; file inputs save their offsets there, and only there.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

from yapdns.agent.parsing import ParseStats
from yapdns.core.model import Observation

Emit = Callable[[list[Observation]], None]


class AgentInput(ABC):
    """One configured input."""

    name: str  # the input's id in the config, for stats and logs

    def __init__(self, name: str) -> None:
        self.name = name
        self.stats = ParseStats()

    @abstractmethod
    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        """Produce observations until ``stop`` is set (or the sources end, when ``once``)."""

    def checkpoint(self) -> None:  # noqa: B027  (a no-op is the right default)
        """Everything emitted so far is durable: persist read positions, if any."""

    def stats_dict(self) -> dict[str, object]:
        return {"input": self.name, **self.stats.as_dict()}
