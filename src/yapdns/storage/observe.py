"""How the storage layer reports its writers' work to whoever watches (the server's metrics).

The storage package knows nothing of Prometheus: a ``GroupWriter`` tells the
installed ``WriterObserver`` how deep its queue is and how long each group
took to apply. With no observer installed (the command line, tests), the
calls cost one attribute lookup.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class WriterObserver(Protocol):
    """Receives a writer's figures; must be quick and must not raise."""

    def queue_depth(self, writer: str, depth: int) -> None:
        """Write jobs waiting in ``writer``'s queue now."""
        ...

    def group_applied(self, writer: str, observations: int, seconds: float) -> None:
        """``writer`` committed one group of ``observations`` in ``seconds``."""
        ...


@runtime_checkable
class ReadinessProbe(Protocol):
    """A store that can say whether it is ready to take writes (the server's readiness check) and which
    migrations it lacks."""

    def readiness(self) -> list[str]:
        """Problems that stop writes (pending migrations, a read-only database); empty when ready."""
        ...

    def pending_migrations(self) -> list[str]:
        """The names of the migrations ``migrate`` would apply (``yapdns migrate --plan``)."""
        ...


_observer: WriterObserver | None = None


def set_writer_observer(observer: WriterObserver | None) -> None:
    """Install (or, with None, remove) the process-wide observer."""
    global _observer  # noqa: PLW0603  (one observer per process by design)
    _observer = observer


def writer_observer() -> WriterObserver | None:
    return _observer
