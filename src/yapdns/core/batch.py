"""The ingest wire format: batches of observations as JSON or NDJSON, optionally gzip.

A batch is either NDJSON (one observation object per line) or a JSON
document: an array of observations, or ``{"batch_id": ..., "observations": [...]}``.
Observation objects use COF field names (``rrname rrtype rdata time_first
time_last zone_time_first zone_time_last count bailiwick sensor_id``) plus
``ttl rcode source evidence sample``. ``rdata`` may be a string or an array
(an RRset). ``time_*`` say when the RRset was seen in traffic, ``zone_time_*``
when it was seen in zone files; an object carries either pair or both, and
``to_wire`` writes them back the same way (``core/windows.py``).

Decoding guarantees: a syntax error raises ``MalformedInput`` with its line
number and nothing of the batch is used; an object that parses but does not
validate (a wrong type, a value out of range, JSON nested too deeply) is
rejected alone, with its line (or array index + 1) and a reason.

Bounds: gzip is inflated member by member (``cat a.gz b.gz`` is one batch)
up to ``max_bytes``; bytes after the last member, or a member cut short, are
``MalformedInput``. More than ``max_records`` lines (NDJSON, blank ones
included) or array items raise ``BatchTooLarge`` before any record is
decoded. A batch id is 1 to ``MAX_BATCH_ID`` printable ASCII characters and
is never shortened; a batch holding no record at all is ``MalformedInput``,
so an empty or unread body can never spend its id.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator

import msgspec

from yapdns.core.canonical import is_canonical
from yapdns.core.errors import BatchTooLarge, InvalidObservation, MalformedInput
from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.normalize import normalize_observation
from yapdns.core.windows import sighting_fields, time_fields

MAX_DECOMPRESSED = 128 * 1024 * 1024
MAX_RECORDS = 100_000
MAX_BATCH_ID = 128
CANONICAL_HEADER = "X-Canonical"  # "1": the sender promises canonical records (checked per record: ``from_wire``)
CHECK_EVERY = 1024  # records decoded between two calls of a decoder's ``check``
_BATCH_ID = re.compile(rf"[\x20-\x7e]{{1,{MAX_BATCH_ID}}}")
_GZIP_MAGIC = b"\x1f\x8b"
_BYTE_POS = re.compile(r"\(byte (\d+)\)|at byte (\d+)")


class WireSample(msgspec.Struct):
    sha256: str
    task_id: str | int | None = None


class WireObservation(msgspec.Struct):
    """One observation as sent on the wire (unknown fields are ignored)."""

    rrname: str
    rrtype: str | int
    rdata: str | list[str] | None = None
    time_first: int | float | None = None
    time_last: int | float | None = None
    zone_time_first: int | float | None = None
    zone_time_last: int | float | None = None
    count: int = 1
    ttl: int | float | None = None
    rcode: str | int | None = None
    bailiwick: str | None = None
    sensor_id: str | None = None
    source: str | None = None
    evidence: Evidence = Evidence.DIRECT
    sample: WireSample | None = None


class Envelope(msgspec.Struct):
    observations: list[msgspec.Raw]
    batch_id: str | None = None


class Reject(msgspec.Struct, frozen=True):
    """One rejected record: where it was and why."""

    line: int
    code: str
    message: str


class DecodedBatch(msgspec.Struct):
    """The valid, normalized observations of a batch, and the rejected ones."""

    batch_id: str | None
    observations: list[Observation]
    rejects: list[Reject]


_decode_obs = msgspec.json.Decoder(WireObservation).decode
_decode_env = msgspec.json.Decoder(Envelope | list[msgspec.Raw]).decode


def decompress(
    body: bytes, encoding: str | None, max_bytes: int = MAX_DECOMPRESSED, max_lines: int | None = None
) -> bytes:
    """Undo ``Content-Encoding: gzip`` (every member), bounded by ``max_bytes`` decompressed bytes.

    With ``max_lines`` (NDJSON), inflating also stops as soon as the output holds more lines than that, so a
    bomb of blank lines costs what its first ``max_lines`` lines cost.
    """
    if (encoding or "").strip().lower() not in ("gzip", "x-gzip"):
        if len(body) > max_bytes:
            raise BatchTooLarge(f"the batch exceeds {max_bytes} bytes; send smaller batches")
        return body
    if not body:
        raise MalformedInput("gzip data cut short: the body is empty")
    inflater = _Inflater(max_bytes, max_lines)
    rest = body
    while rest:
        if inflater.parts and rest[:2] != _GZIP_MAGIC:
            raise MalformedInput(f"bad gzip data: {len(rest)} bytes after the last gzip member")
        rest = inflater.member(rest)
    return b"".join(inflater.parts)


class _Inflater:
    """Inflates gzip members in steps of ``STEP`` bytes, checking the bounds after each step."""

    STEP = 1 << 20

    def __init__(self, max_bytes: int, max_lines: int | None) -> None:
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.parts: list[bytes] = []
        self.size = 0
        self.lines = 0

    def member(self, data: bytes) -> bytes:
        """Inflate the member at the start of ``data``; return the bytes after it."""
        d = zlib.decompressobj(wbits=31)
        while not d.eof:
            try:
                part = d.decompress(data, min(self.STEP, self.max_bytes - self.size + 1))  # never 0: unbounded
            except zlib.error as exc:
                raise MalformedInput(f"bad gzip data: {exc}") from None
            data = d.unconsumed_tail
            if not part and not data and not d.eof:  # a cut upload must never pass for a (smaller) batch
                raise MalformedInput("gzip data cut short")
            self._add(part)
        return d.unused_data

    def _add(self, part: bytes) -> None:
        self.size += len(part)
        if self.size > self.max_bytes:
            raise BatchTooLarge(f"the decompressed batch exceeds {self.max_bytes} bytes; send smaller batches")
        if self.max_lines is not None:
            self.lines += part.count(b"\n")
            if self.lines > self.max_lines:
                raise BatchTooLarge(f"the batch has more than {self.max_lines} lines; send smaller batches")
        self.parts.append(part)


def check_batch_id(value: str | None) -> str | None:
    """``value`` if it is a valid batch id (None and "" mean: no id); raise ``MalformedInput`` otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or _BATCH_ID.fullmatch(value) is None:
        raise MalformedInput(
            f"X-Batch-Id (or batch_id) must be 1 to {MAX_BATCH_ID} printable ASCII characters, without control "
            f"characters; got {len(value) if isinstance(value, str) else type(value).__name__} characters"
        )
    return value


def from_wire(wire: WireObservation, canonical: bool = False) -> Observation:
    """Validate and normalize one wire observation; raise ``InvalidObservation``.

    ``canonical``: the sender promises canonical records; one that ``is_canonical`` proves so is taken as it is,
    any other is normalized (a promise is checked, never trusted)."""
    times = sighting_fields(wire.time_first, wire.time_last, wire.zone_time_first, wire.zone_time_last)
    rdata = wire.rdata
    rrset = () if rdata is None or rdata == "" else (rdata,) if isinstance(rdata, str) else tuple(rdata)
    sample = wire.sample
    obs = Observation(
        rrname=wire.rrname,
        rrtype=wire.rrtype,  # type: ignore[arg-type]  # normalize accepts codes
        rdata=rrset,
        **times,  # normalize truncates float times
        count=wire.count,
        ttl=int(wire.ttl) if isinstance(wire.ttl, float) else wire.ttl,
        rcode=wire.rcode,  # type: ignore[arg-type]
        bailiwick=wire.bailiwick,
        sensor_id=wire.sensor_id,
        source=wire.source,
        evidence=wire.evidence,
        sample=SampleRef(sample.sha256, None if sample.task_id is None else str(sample.task_id))
        if sample
        else None,
    )
    return obs if canonical and is_canonical(obs) else normalize_observation(obs)


def _decode_one(raw: bytes, line: int, rejects: list[Reject], canonical: bool = False) -> Observation | None:
    try:
        return from_wire(_decode_obs(raw), canonical)
    except msgspec.ValidationError as exc:
        rejects.append(Reject(line, "bad_value", str(exc)))
    except msgspec.DecodeError as exc:
        raise MalformedInput(f"invalid JSON: {exc}", line=line) from None
    except RecursionError:
        rejects.append(Reject(line, "bad_value", "the JSON is nested too deeply"))
    except InvalidObservation as exc:
        rejects.append(Reject(line, exc.code, str(exc)))
    return None


def _decode_all(
    items: Iterable[tuple[int, bytes]], batch_id: str | None, check: Callable[[], None] | None, canonical: bool
) -> DecodedBatch:
    observations: list[Observation] = []
    rejects: list[Reject] = []
    for n, (line, raw) in enumerate(items, start=1):
        obs = _decode_one(raw, line, rejects, canonical)
        if obs is not None:
            observations.append(obs)
        if check is not None and n % CHECK_EVERY == 0:
            check()
    if not observations and not rejects:
        raise MalformedInput("the batch holds no records")
    return DecodedBatch(batch_id, observations, rejects)


def decode_ndjson(
    body: bytes,
    batch_id: str | None = None,
    *,
    max_records: int = MAX_RECORDS,
    check: Callable[[], None] | None = None,
    canonical: bool = False,
) -> DecodedBatch:
    """Decode NDJSON; blank lines are skipped (but counted against ``max_records``), line numbers count from 1.

    ``check`` is called every ``CHECK_EVERY`` records (a time budget may raise from it); ``canonical``: the
    sender's promise, checked per record (``from_wire``).
    """
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    if lines > max_records:
        raise BatchTooLarge(f"the batch has {lines} lines, more than {max_records}; send smaller batches")
    items = ((n, raw) for n, raw in enumerate(body.split(b"\n"), start=1) if raw.strip())
    return _decode_all(items, check_batch_id(batch_id), check, canonical)


def decode_json(
    body: bytes,
    batch_id: str | None = None,
    *,
    max_records: int = MAX_RECORDS,
    check: Callable[[], None] | None = None,
    canonical: bool = False,
) -> DecodedBatch:
    """Decode a JSON array or envelope; a record's "line" is its 1-based array index."""
    try:
        doc = _decode_env(body)
    except msgspec.DecodeError as exc:
        raise MalformedInput(f"invalid JSON: {exc}", line=_line_of(body, str(exc))) from None
    except RecursionError:
        raise MalformedInput("invalid JSON: nested too deeply") from None
    items = doc.observations if isinstance(doc, Envelope) else doc
    if len(items) > max_records:
        raise BatchTooLarge(f"the batch has {len(items)} records, more than {max_records}; send smaller batches")
    batch_id = check_batch_id(batch_id) or (check_batch_id(doc.batch_id) if isinstance(doc, Envelope) else None)
    return _decode_all(((n, bytes(raw)) for n, raw in enumerate(items, start=1)), batch_id, check, canonical)


def decode_batch(
    body: bytes,
    content_type: str,
    batch_id: str | None = None,
    *,
    max_records: int = MAX_RECORDS,
    check: Callable[[], None] | None = None,
    canonical: bool = False,
) -> DecodedBatch:
    """Pick the decoder from the media type (NDJSON unless it is ``application/json``)."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media == "application/json" or (media == "" and body.lstrip()[:1] in (b"[", b"{") and b"\n{" not in body):
        return decode_json(body, batch_id, max_records=max_records, check=check, canonical=canonical)
    return decode_ndjson(body, batch_id, max_records=max_records, check=check, canonical=canonical)


def _line_of(body: bytes, message: str) -> int:
    match = _BYTE_POS.search(message)
    if not match:
        return 1
    pos = int(match.group(1) or match.group(2))
    return body.count(b"\n", 0, pos) + 1


_encoder = msgspec.json.Encoder()


def to_wire(obs: Observation) -> dict[str, object]:
    """The wire object for an observation (fields at their defaults are left out)."""
    out: dict[str, object] = {"rrname": obs.rrname, "rrtype": obs.rrtype, **time_fields(obs)}
    if obs.rdata:
        out["rdata"] = list(obs.rdata)
    for field in ("count", "ttl", "rcode", "bailiwick", "sensor_id", "source"):
        value = getattr(obs, field)
        if value is not None and not (field == "count" and value == 1):
            out[field] = value
    if obs.evidence is not Evidence.DIRECT:
        out["evidence"] = obs.evidence.value
    if obs.sample:
        out["sample"] = {"sha256": obs.sample.sha256, "task_id": obs.sample.task_id}
    return out


def encode_ndjson(observations: Iterable[Observation]) -> bytes:
    """Encode observations as NDJSON, the agent's shipping format."""
    return b"".join(_encoder.encode(to_wire(o)) + b"\n" for o in observations)


def iter_ndjson_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, Observation | Reject]]:
    """Decode a stream of NDJSON lines one by one, yielding observations or rejects."""
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        rejects: list[Reject] = []
        try:
            obs = _decode_one(raw, line_no, rejects)
        except MalformedInput as exc:
            yield line_no, Reject(line_no, exc.code, str(exc))
            continue
        yield line_no, obs if obs is not None else rejects[0]
