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
  raises ``MalformedInput`` and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec

from yapdns.core.batch import DecodedBatch, Reject, check_batch_id
from yapdns.core.model import Observation
from yapdns.storage.base import BatchRef, Store


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

    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, sensor: str, batch: DecodedBatch, *, max_rejects_listed: int = 100) -> IngestResult:
        batch_id = check_batch_id(batch.batch_id) or f"auto-{uuid.uuid4()}"
        ref = BatchRef(sensor, batch_id, len(batch.observations), len(batch.rejects))
        outcome = self.store.write(attribute(batch.observations, sensor), ref)
        return IngestResult(
            batch_id=ref.batch_id,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            replayed=outcome.replayed,
            rejects=[] if outcome.replayed else batch.rejects[:max_rejects_listed],
        )
