"""The shipper: POSTs spooled batches to the ingest API, up to ``output.in_flight`` at once.

Batches are taken from the spool in order and sent by ``in_flight`` sender
threads over one keep-alive connection pool, so the server's group writer
can fold several of them into one transaction while the next ones are on
the way. They are acknowledged in the spool strictly in spool order
(``AckWindow``): a batch answered early waits for the ones before it, and
at most ``in_flight`` batches are handed out and not acknowledged. The
spool's cursor therefore never passes an unacknowledged batch: after a
crash or a stop, everything from the oldest unacknowledged batch on is sent
again, and the server drops the ones it applied already.

Every request carries the batch's stable id (``X-Batch-Id``), so a retry of
a batch the server already applied is acknowledged as a replay and changes
nothing. What an answer means:

* 200: delivered. The batch is acknowledged in the spool; the per-record
  rejects of the answer are counted and the first ones logged.
* 408, 425, 429, 502, 503, 504 (and other 5xx), network errors: retried with
  jittered exponential backoff, for as long as it takes; a ``Retry-After``
  (seconds or HTTP date) is honoured.
* 500: the server failed in a way a retry would likely repeat (a bug). It is
  retried ``SERVER_ERROR_ATTEMPTS`` times in all (a server being fixed or
  restarted gets its chance), then quarantined, so one batch that trips a
  server bug never blocks the ones behind it.
* 401, 403, 404, 405, 407: the agent's setup is wrong (token, URL, proxy), not
  the batch: logged as an error and retried with backoff, so that fixing the
  token or the server loses nothing.
* 413: the batch is larger than the server takes in one request. Nothing of
  it was applied and its id was not spent, so it is split in two halves (by
  lines) sent as ``<id>.1`` and ``<id>.2``, each split again if need be; the
  spooled batch is acknowledged once every part is. The split is
  deterministic, so after a crash the same parts get the same ids and the
  server drops the ones it applied already. A single record too large is
  quarantined.
* any other 4xx (400, 422...): the batch itself is refused. It is
  quarantined (written to ``<data>/quarantine/`` with the server's answer),
  counted, logged and acknowledged, never retried forever.
"""

from __future__ import annotations

import collections
import email.utils
import gzip
import logging
import random
import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import msgspec

from yapdns import __version__
from yapdns.agent.config import OutputConfig
from yapdns.agent.durable import write_atomic
from yapdns.agent.metrics import SHIP_SECONDS
from yapdns.agent.spool import DiskSpool, SpooledBatch, SpoolRef
from yapdns.agent.stats import ShipperCounters
from yapdns.core.batch import CANONICAL_HEADER
from yapdns.core.private import private_dir

log = logging.getLogger(__name__)

_RETRY = frozenset({408, 425, 429})
_SETUP = frozenset({401, 403, 404, 405, 407})
_SECONDS = re.compile(r"[0-9]{1,10}")
MAX_RETRY_AFTER = 3600.0
REJECTS_LOGGED = 5
SERVER_ERROR_ATTEMPTS = 5
MAX_BATCH_ID = 128  # what the server accepts (core/batch.py); a split part's id must stay within it


class Parcel(NamedTuple):
    """What one POST sends: a spooled batch, or a part of one split after a 413."""

    batch_id: str
    observations: int
    body: bytes  # gzip NDJSON


class _Split(Exception):
    """The server answered 413: send the parcel in smaller parts."""


def split_parcel(parcel: Parcel) -> tuple[Parcel, Parcel] | None:
    """The two halves of ``parcel`` by lines (ids ``<id>.1`` and ``<id>.2``), or None if it cannot be split."""
    lines = gzip.decompress(parcel.body).splitlines(keepends=True)
    if len(lines) < 2 or len(parcel.batch_id) + 2 > MAX_BATCH_ID:
        return None
    half = len(lines) // 2
    return (
        Parcel(f"{parcel.batch_id}.1", half, gzip.compress(b"".join(lines[:half]), mtime=0)),
        Parcel(f"{parcel.batch_id}.2", len(lines) - half, gzip.compress(b"".join(lines[half:]), mtime=0)),
    )


class IngestAnswer(msgspec.Struct):
    accepted: int = 0
    rejected: int = 0
    replayed: bool = False
    rejects: list[dict[str, Any]] = []


def ssl_context(output: OutputConfig) -> ssl.SSLContext | bool:
    """The TLS settings of ``output``: a context with its CA and client certificate, or ``False``."""
    if not output.verify:
        return False
    context = ssl.create_default_context(cafile=output.ca_file)
    if output.client_cert:
        context.load_cert_chain(output.client_cert, output.client_key)
    return context


class AckWindow:
    """The batches handed out by the spool and not yet acknowledged, acknowledged in the order handed out.

    ``done`` marks a batch delivered (or quarantined); the oldest batches that are done are then acknowledged
    in the spool, each freeing one of the window's ``size`` places.
    """

    def __init__(self, spool: DiskSpool, size: int) -> None:
        self.spool = spool
        self.places = threading.BoundedSemaphore(size)
        self._order: collections.deque[SpoolRef] = collections.deque()
        self._done: set[SpoolRef] = set()
        self._lock = threading.Lock()

    def take(self, ref: SpoolRef) -> None:
        """``ref`` was handed out (after a place was acquired)."""
        with self._lock:
            self._order.append(ref)

    def done(self, ref: SpoolRef) -> None:
        with self._lock:
            self._done.add(ref)
            while self._order and self._order[0] in self._done:
                oldest = self._order[0]
                self.spool.ack(oldest)  # first: if it raises, the window is as it was
                self._order.popleft()
                self._done.discard(oldest)
                self.places.release()


class BatchShipper:
    """Delivers the spool's batches until stopped."""

    def __init__(self, spool: DiskSpool, output: OutputConfig, quarantine_dir: Path, counters: ShipperCounters) -> None:
        self.spool = spool
        self.output = output
        self.quarantine_dir = quarantine_dir
        self.counters = counters
        self._counting = threading.Lock()  # the counters have several writers: the sender threads
        self.client = httpx.Client(
            verify=ssl_context(output),
            timeout=output.timeout,
            headers={"Authorization": f"Bearer {output.resolved_token()}", "User-Agent": f"yapdns-agent/{__version__}"},
            limits=httpx.Limits(max_connections=output.in_flight, max_keepalive_connections=output.in_flight),
        )

    def run(self, stop: threading.Event) -> None:
        """Ship until ``stop`` is set; batches in flight or in backoff then are left for the next start."""
        window = AckWindow(self.spool, self.output.in_flight)
        senders = ThreadPoolExecutor(self.output.in_flight, thread_name_prefix="shipper")
        try:
            while not stop.is_set():
                if not window.places.acquire(timeout=0.5):
                    continue
                batch = self.spool.next_unsent(timeout=0.5)
                if batch is None:
                    window.places.release()
                    continue
                window.take(batch.ref)
                senders.submit(self._deliver, batch, stop, window)
        finally:
            senders.shutdown(wait=True)
            self.spool.rewind()  # what is not acknowledged is sent again, from the oldest on
            self.client.close()

    def _deliver(self, batch: SpooledBatch, stop: threading.Event, window: AckWindow) -> None:
        """In a sender thread: send ``batch`` until it is acknowledged or quarantined, or ``stop`` is set."""
        attempt = 0
        while not stop.is_set():
            try:
                if self._send(Parcel(batch.batch_id, batch.observations, batch.body), stop):
                    window.done(batch.ref)
                return
            except Exception:  # a bug or a full disk (quarantine): never lose the batch, never stall silently
                log.exception("batch %s: shipping failed unexpectedly; will retry", batch.batch_id,
                              extra={"batch_id": batch.batch_id})
                attempt += 1
                stop.wait(self._backoff(attempt))

    def _send(self, parcel: Parcel, stop: threading.Event) -> bool:
        """Send ``parcel`` (split after a 413) until every part is acknowledged or quarantined."""
        attempt = server_errors = 0
        while not stop.is_set():
            try:
                wait = self._attempt(parcel, server_errors)
            except _Split:
                return self._send_halves(parcel, stop)
            if wait is None:
                return True
            if wait < 0:  # a 500
                server_errors += 1
                wait = 0.0
            attempt += 1
            with self._counting:
                self.counters.retries += 1
            stop.wait(wait if wait > 0 else self._backoff(attempt))
        return False

    def _send_halves(self, parcel: Parcel, stop: threading.Event) -> bool:
        halves = split_parcel(parcel)
        if halves is None:
            self._quarantine(parcel, 413, "too large for the server even alone")
            return True
        with self._counting:
            self.counters.batches_split += 1
        log.warning("batch %s too large for the server: sent as two halves", parcel.batch_id,
                    extra={"batch_id": parcel.batch_id})
        return all(self._send(half, stop) for half in halves)

    def _attempt(self, parcel: Parcel, server_errors: int) -> float | None:
        """One POST. ``None``: done with the parcel; otherwise seconds to wait (0: use backoff; -1: a 500).

        Raises ``_Split`` on a 413.
        """
        try:
            with SHIP_SECONDS.time():
                response = self.client.post(
                    self.output.ingest_url,
                    content=parcel.body,
                    headers={
                        "Content-Type": "application/x-ndjson",
                        "Content-Encoding": "gzip",
                        "X-Batch-Id": parcel.batch_id,
                        CANONICAL_HEADER: "1",  # the spool holds normalized observations only
                    },
                )
        except httpx.HTTPError as exc:
            self._failed(f"{type(exc).__name__}: {exc}", parcel.batch_id)
            return 0.0
        return self._answered(parcel, response, server_errors)

    def _answered(self, parcel: Parcel, response: httpx.Response, server_errors: int) -> float | None:
        """What an answer means (module doc); the same values as ``_attempt``."""
        status = response.status_code
        if 200 <= status < 300:
            self._delivered(parcel, response)
            return None
        message = _server_message(response)
        if status == 413:
            raise _Split()
        if status == 500:
            if server_errors + 1 >= SERVER_ERROR_ATTEMPTS:
                self._quarantine(parcel, status, message)
                return None
            attempt = f"attempt {server_errors + 1} of {SERVER_ERROR_ATTEMPTS}"
            self._failed(f"HTTP 500: {message} ({attempt})", parcel.batch_id)
            return -1.0
        if status in _RETRY or status > 500:
            self._failed(f"HTTP {status}: {message}", parcel.batch_id)
            return _retry_after(response)
        if status in _SETUP:
            self._failed(f"HTTP {status}: {message} (check output.url and the token)", parcel.batch_id,
                         level=logging.ERROR)
            return 0.0
        self._quarantine(parcel, status, message)
        return None

    def _delivered(self, batch: Parcel, response: httpx.Response) -> None:
        try:
            answer = msgspec.json.decode(response.content, type=IngestAnswer)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("batch %s: delivered, but the answer is not the ingest JSON", batch.batch_id,
                        extra={"batch_id": batch.batch_id})
            answer = IngestAnswer(accepted=batch.observations)
        log.debug("batch %s delivered: %s", batch.batch_id, answer, extra={"batch_id": batch.batch_id})
        c = self.counters
        with self._counting:
            c.batches_acked += 1
            c.batches_replayed += answer.replayed
            c.observations_accepted += answer.accepted
            c.observations_rejected += answer.rejected
            c.last_ack = time.time()
            c.reject_samples.extend({"batch_id": batch.batch_id, **r} for r in answer.rejects[:REJECTS_LOGGED])
        for reject in answer.rejects[:REJECTS_LOGGED]:
            log.warning("batch %s: server rejected record %s: %s", batch.batch_id, reject.get("line"), reject,
                        extra={"batch_id": batch.batch_id})

    def _quarantine(self, batch: Parcel, status: int, message: str) -> None:
        private_dir(self.quarantine_dir)
        write_atomic(self.quarantine_dir / f"{batch.batch_id}.ndjson.gz", batch.body)
        note = {"batch_id": batch.batch_id, "status": status, "message": message, "observations": batch.observations}
        write_atomic(self.quarantine_dir / f"{batch.batch_id}.json", msgspec.json.encode({**note, "time": time.time()}))
        with self._counting:
            self.counters.batches_quarantined += 1
            self.counters.observations_quarantined += batch.observations
        log.error("batch %s quarantined: HTTP %d: %s", batch.batch_id, status, message,
                  extra={"batch_id": batch.batch_id})

    def _failed(self, message: str, batch_id: str, level: int = logging.WARNING) -> None:
        with self._counting:
            self.counters.last_error = message
        log.log(level, "shipping failed, will retry: %s", message, extra={"batch_id": batch_id})

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.output.backoff.max, self.output.backoff.initial * 2 ** min(attempt - 1, 30))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not cryptography)


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a ``Retry-After`` header (delta or HTTP date); 0 when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    if _SECONDS.fullmatch(value):  # ASCII digits only: "²".isdigit() is true too, and float("²") fails
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and "error" in body:
        line = f" (line {body['line']})" if body.get("line") is not None else ""
        return f"{body['error']}{line}"
    return str(body)[:500]
