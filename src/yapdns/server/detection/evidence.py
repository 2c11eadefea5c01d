"""Resolutions in an uploaded STIX 2.1 bundle or MISP event, stored as evidence (the API and the dashboard).

The file is read by ``exchange/`` (the readers ``yapdns import -F stix|misp``
uses, validated with ``stix2`` and PyMISP's ``passive-dns`` template), and
written as one import batch whose id is the one ``yapdns import`` gives the
same file (``core/importkey.py``): uploading a file again, or uploading a
file already imported from the command line, is a replay that stores
nothing twice. Evidence goes under the sensor ``import`` (sub-sensor
``import/stix`` or ``import/misp``, as the command's default), or under a
registered, active sensor the upload names (``<sensor>/stix``, as
``yapdns import --sensor``), through the ingest path and its after-commit
watchlist matching. A replay is recognised per sensor, as the store does:
the same file under another sensor is stored again, under that sensor.
A registered sensor's health counters count an upload as its ingest does:
a batch (accepted, rejected or replayed), or a batch refused whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yapdns.core.batch import DecodedBatch, Reject
from yapdns.core.importkey import ParserOptions, batch_id, import_key
from yapdns.exchange.evidence import READERS, read_evidence
from yapdns.ingest import IngestResult, IngestService
from yapdns.server.detection.live import ingest_hooks
from yapdns.server.store import get_store

FORMATS = tuple(READERS)
SENSOR = "import"
UPLOAD_MAX = 2 * 1024 * 1024
SAMPLES = 20


class BadEvidence(ValueError):
    """The upload cannot be read at all: an unknown format or not a bundle/event (status 400), or too large (413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class EvidenceReport:
    """What an upload did: observations read, stored or already imported, and rejects by reason."""

    format: str
    sensor: str = "import"
    observations: int = 0
    stored: int = 0
    already_imported: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, str]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(self.errors.values())

    def as_json(self) -> dict[str, object]:
        return {
            "format": self.format, "sensor": f"{self.sensor}/{self.format}", "observations": self.observations,
            "stored": self.stored, "already_imported": self.already_imported, "rejected": self.rejected,
            "errors": self.errors, "samples": self.samples,
        }

    def summary(self) -> str:
        """One sentence for the dashboard."""
        done = f"{self.stored:,} resolutions stored" + (
            f", {self.already_imported:,} already imported before (skipped)" if self.already_imported else "")
        bad = ", ".join(f"{code}: {n}" for code, n in sorted(self.errors.items()))
        return f"{done}; {self.rejected:,} rejected" + (f" ({bad})" if bad else "") + "."


def upload_sensor(name: str | None) -> str:
    """The sensor an upload is stored under: ``import`` unless it names a registered, active sensor.

    Raises ``BadEvidence`` (400) for a name no sensor has, or a revoked sensor's.
    """
    from yapdns.server.sensors.models import Sensor

    if name is None or name == SENSOR:
        return SENSOR
    sensor = Sensor.objects.filter(name=name).first()
    if sensor is None:
        raise BadEvidence(f"no registered sensor {name[:64]!r}: register it first (`yapdns sensor add NAME`) or "
                          f"leave sensor out to store under {SENSOR!r}")
    if not sensor.active:
        raise BadEvidence(f"sensor {name!r} is revoked; evidence is stored under active sensors only")
    return sensor.name


def import_evidence(fmt: str, data: bytes, sensor: str = SENSOR) -> EvidenceReport:
    """Store the resolutions of one uploaded file under ``sensor`` (checked by ``upload_sensor``); raise
    ``BadEvidence`` for a bad format or size. Counted in the sensor's health counters, when it is registered."""
    from yapdns.server.sensors.models import Sensor
    from yapdns.server.sensors.services import record_ingest, record_refusal

    registered = Sensor.objects.filter(name=sensor).values_list("pk", flat=True).first()
    try:
        report, result = _store(fmt, data, sensor)
    except BadEvidence:
        if registered is not None:
            record_refusal(registered)
        raise
    if registered is not None and result is not None:
        record_ingest(registered, result.accepted, result.rejected, result.replayed)
    return report


def _store(fmt: str, data: bytes, sensor: str) -> tuple[EvidenceReport, IngestResult | None]:
    """The upload's report, and the ingest's answer (None when the file held no resolution to store)."""
    if fmt not in READERS:
        raise BadEvidence(f"format must be one of {', '.join(FORMATS)}")
    if len(data) > UPLOAD_MAX:
        raise BadEvidence(f"the file is larger than {UPLOAD_MAX} bytes; use `yapdns import -F {fmt}` for it", 413)
    read = read_evidence(fmt, data)
    if read.unusable:
        raise BadEvidence(f"{read.unusable}; send a {fmt.upper()} {'bundle' if fmt == 'stix' else 'event'} as JSON")
    report = EvidenceReport(fmt, sensor, observations=len(read.observations), errors=dict(read.errors),
                            samples=[{"code": c, "message": m} for c, m in read.rejects[:SAMPLES]])
    if not read.observations:
        return report, None
    key = import_key(fmt, ParserOptions(), [data])
    rejects = [Reject(1, code, message) for code, message in read.rejects]
    batch = DecodedBatch(batch_id(key, 0, len(data)), read.observations, rejects)
    result = IngestService(get_store(), ingest_hooks()).submit(sensor, batch)
    if result.replayed:
        report.already_imported = len(read.observations)
    else:
        report.stored = len(read.observations)
    return report, result
