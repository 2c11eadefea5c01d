"""The ingest path shared by the HTTP API and ``yapdns import``.

``IngestService.submit`` takes a decoded batch (valid observations plus
rejects) from one authenticated sensor and applies it through the store:

* every observation is attributed to the sensor: an observation's own
  ``sensor_id`` becomes a sub-sensor ``<sensor>/<sensor_id>``, so a token can
  never write under another sensor's name;
* the batch id makes the write idempotent: a replay is acknowledged with the
  first application's counts and changes nothing;
* a batch without an id gets a random one (it cannot be replayed safely);
  an id is never shortened: an invalid one (``core.batch.check_batch_id``)
  raises ``MalformedInput`` and nothing is written;
* ``after_commit`` hooks (watchlist matching) see the attributed
  observations and the batch's reference once the write has committed, replays included (so a crash
  between the commit and a hook is made good by the sender's retry); a hook
  that fails is logged and never fails the ingest. A ``StagedAfterCommit``
  hook is started (``begin``) before the write, so its side-effect-free part
  (matching) can run on its own thread while the store writes; what it
  finishes with (keeping the matches) still runs only after the commit, and
  not at all when the write fails: in the request, or, when ``begin`` returns
  a ``Then``, in the store's writer thread, once for the whole committed group
  and before the write returns (``storage.base.CommitHook``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import msgspec

from yapdns.core.batch import DecodedBatch, Reject, check_batch_id
from yapdns.core.model import Observation
from yapdns.storage.base import BatchRef, Store, Then


@runtime_checkable
class StagedAfterCommit(Protocol):
    """An after-commit hook in two stages: ``begin`` before the write, the callable it returns after the commit."""

    def begin(self, observations: Sequence[Observation], ref: BatchRef) -> Callable[[], None] | Then:
        """Start the work that has no effect outside the hook (it may go on while the batch is written); the
        callable returned finishes it, and is called only once the write committed; a ``Then`` is handed to the
        store, whose writer finishes it after the commit."""
        ...


AfterCommit = Callable[[Sequence[Observation], BatchRef], None] | StagedAfterCommit
log = logging.getLogger(__name__)


class IngestResult(msgspec.Struct, frozen=True):
    """The answer to one ingest request."""

    batch_id: str
    accepted: int
    rejected: int
    replayed: bool
    rejects: list[Reject]


def attribute(observations: Sequence[Observation], sensor: str) -> list[Observation]:
    """Place every observation under ``sensor`` (own ids become sub-sensors)."""
    out = []
    for obs in observations:
        sub = obs.sensor_id
        wanted = sensor if sub in (None, sensor) else f"{sensor}/{sub}"
        out.append(obs if sub == wanted else msgspec.structs.replace(obs, sensor_id=wanted))
    return out


class IngestService:
    """Validate-then-apply for one store."""

    def __init__(self, store: Store, after_commit: Sequence[AfterCommit] = ()) -> None:
        self.store = store
        self.after_commit = after_commit

    def submit(self, sensor: str, batch: DecodedBatch, *, max_rejects_listed: int = 100) -> IngestResult:
        batch_id = check_batch_id(batch.batch_id) or f"auto-{uuid.uuid4()}"
        ref = BatchRef(sensor, batch_id, len(batch.observations), len(batch.rejects))
        observations = attribute(batch.observations, sensor)
        started = [_begin(hook, observations, ref) for hook in self.after_commit]
        then = [s for s in started if isinstance(s, Then)]
        outcome = self.store.write(observations, ref, then) if then else self.store.write(observations, ref)
        for finish in started:
            if isinstance(finish, Then):
                continue
            try:
                finish()
            except Exception:
                log.exception("after-commit hook failed on %s of %s (batch applied)", ref.batch_id, sensor)
        return IngestResult(
            batch_id=ref.batch_id,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            replayed=outcome.replayed,
            rejects=[] if outcome.replayed else batch.rejects[:max_rejects_listed],
        )


def _begin(hook: AfterCommit, observations: Sequence[Observation], ref: BatchRef) -> Callable[[], None] | Then:
    """What to call once the write committed (a plain hook is called whole then), or hand to the store."""
    if not isinstance(hook, StagedAfterCommit):
        return lambda: hook(observations, ref)
    try:
        return hook.begin(observations, ref)
    except Exception:
        log.exception("after-commit hook failed to start on %s of %s", ref.batch_id, ref.sensor)
        return lambda: None
