"""The shipper's HTTP protocol, against a scripted HTTP peer standing in for a proxy or load balancer.

Overload answers (429, 503 with ``Retry-After``) usually come from the
reverse proxy in front of the server, so they are played here by a small
local HTTP server; what the real YAPDNS server answers is covered in
test_reliability.py.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from yapdns.agent.config import config_from_dict
from yapdns.agent.positions import Checkpoint, encode_checkpoint
from yapdns.agent.shipper import AckWindow, BatchShipper, _retry_after
from yapdns.agent.spool import DiskSpool, SpoolRef
from yapdns.agent.stats import ShipperCounters

Answer = tuple[int, dict[str, str], bytes]
OK = (
    200,
    {},
    b'{"batch_id":"x","accepted":2,"rejected":1,"replayed":false,'
    b'"rejects":[{"line":2,"code":"bad_name","message":"empty label"}]}',
)


class ScriptedPeer(http.server.ThreadingHTTPServer):
    """Answers each POST with the next scripted answer (the last one repeats) and records the requests."""

    def __init__(self, answers: list[Answer]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers = answers
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.held: dict[str, threading.Event] = {}  # batch id -> answered only once set
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ScriptedPeer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests.append((dict(self.headers.items()), body))
            number = len(self.server.requests)
        status, headers, payload = self.server.answers[min(number, len(self.server.answers)) - 1]
        held = self.server.held.get(self.headers["X-Batch-Id"])
        if held is not None:
            held.wait(20)
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def peer(request: pytest.FixtureRequest) -> Iterator[ScriptedPeer]:
    server = ScriptedPeer(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def line(n: int) -> bytes:
    return b'{"rrname":"a%d.example","rrtype":"A","rdata":"192.0.2.1","time_first":1,"time_last":1}\n' % n


class Shipping:
    """A shipper thread delivering ``batches`` spooled batches to ``peer``."""

    def __init__(
        self, tmp_path: Path, peer: ScriptedPeer, batches: int, lines: int, in_flight: int, timeout: str = "30s"
    ) -> None:
        output = {
            "url": peer.url, "token": "tok", "backoff": {"initial": "10ms", "max": "20ms"}, "in_flight": in_flight,
            "timeout": timeout,
        }
        config = config_from_dict({"output": output}, base_dir=tmp_path)
        self.spool = DiskSpool(tmp_path / "spool", max_bytes=1 << 20, segment_bytes=1 << 16)
        self.spool.open()
        body = gzip.compress(b"".join(line(n) for n in range(lines)))
        self.spool.commit([(f"batch-{i}", lines, body) for i in range(batches)], encode_checkpoint(Checkpoint(1)), 1)
        self.counters = ShipperCounters()
        self.shipper = BatchShipper(self.spool, config.output, tmp_path / "quarantine", self.counters)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.shipper.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def finish(self, timeout: float = 20) -> None:
        """Wait until every batch is acknowledged (or ``timeout``), then stop the shipper."""
        deadline = time.monotonic() + timeout
        while self.spool.pending_batches and time.monotonic() < deadline:
            time.sleep(0.01)
        self.stop.set()
        self.thread.join(10)


def ship(
    tmp_path: Path, peer: ScriptedPeer, batches: int = 1, lines: int = 1
) -> tuple[BatchShipper, DiskSpool, ShipperCounters]:
    """Ship ``batches`` one at a time (``in_flight: 1``): the peer's script answers requests in the order sent."""
    shipping = Shipping(tmp_path, peer, batches, lines, in_flight=1)
    shipping.finish()
    return shipping.shipper, shipping.spool, shipping.counters


@pytest.mark.parametrize(
    "peer",
    [[(503, {"Retry-After": "0"}, b'{"error":"busy"}'), (429, {"Retry-After": formatdate(usegmt=True)}, b""), OK]],
    indirect=True,
)
def test_overload_answers_are_retried_with_the_same_batch_id(tmp_path: Path, peer: ScriptedPeer) -> None:
    _, spool, counters = ship(tmp_path, peer)
    assert spool.pending_batches == 0
    assert [h["X-Batch-Id"] for h, _ in peer.requests] == ["batch-0"] * 3
    assert len({body for _, body in peer.requests}) == 1
    headers, body = peer.requests[0]
    assert headers["Authorization"] == "Bearer tok" and headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/x-ndjson"
    assert headers["X-Canonical"] == "1"  # the spool holds normalized observations: the server checks, not trusts
    assert json.loads(gzip.decompress(body))["rrname"] == "a0.example"
    assert (counters.retries, counters.batches_acked, counters.observations_accepted) == (2, 1, 2)
    assert counters.observations_rejected == 1 and counters.reject_samples[0]["code"] == "bad_name"


@pytest.mark.parametrize("peer", [[(422, {}, b'{"error":"no such field"}'), OK]], indirect=True)
def test_a_refused_batch_is_quarantined_and_the_next_one_goes_on(tmp_path: Path, peer: ScriptedPeer) -> None:
    _, spool, counters = ship(tmp_path, peer, batches=2)
    assert spool.pending_batches == 0
    assert [h["X-Batch-Id"] for h, _ in peer.requests] == ["batch-0", "batch-1"]
    assert (counters.batches_quarantined, counters.batches_acked, counters.retries) == (1, 1, 0)
    note = json.loads((tmp_path / "quarantine" / "batch-0.json").read_text())
    assert (note["status"], note["message"]) == (422, "no such field")
    assert (tmp_path / "quarantine" / "batch-0.ndjson.gz").read_bytes() == peer.requests[0][1]


@pytest.mark.parametrize("peer", [[(401, {}, b'{"error":"invalid token"}')] * 3 + [OK]], indirect=True)
def test_an_auth_failure_is_retried_never_quarantined(tmp_path: Path, peer: ScriptedPeer) -> None:
    _, _, counters = ship(tmp_path, peer)
    assert (counters.batches_quarantined, counters.retries, counters.batches_acked) == (0, 3, 1)
    assert not (tmp_path / "quarantine").exists()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def answer(value: str) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": value})

    assert _retry_after(answer("7")) == 7.0
    assert 55 <= _retry_after(answer(formatdate(time.time() + 60, usegmt=True))) <= 60
    assert _retry_after(answer(formatdate(time.time() - 60, usegmt=True))) == 0.0
    assert _retry_after(answer("soon")) == 0.0
    assert _retry_after(answer("999999")) == 3600.0
    assert _retry_after(httpx.Response(503)) == 0.0


TOO_LARGE = (413, {}, b'{"error":"the batch has 5 lines, more than 2; send smaller batches"}')


def _sent(peer: ScriptedPeer) -> list[tuple[str, list[int]]]:
    """(batch id, line numbers) of every request the peer saw."""
    return [
        (h["X-Batch-Id"], [int(json.loads(x)["rrname"][1:].split(".")[0]) for x in gzip.decompress(b).splitlines()])
        for h, b in peer.requests
    ]


@pytest.mark.parametrize("peer", [[TOO_LARGE, TOO_LARGE, OK, OK, OK]], indirect=True)
def test_a_batch_too_large_for_the_server_is_split_in_halves_with_derived_ids(tmp_path: Path, peer: ScriptedPeer) -> None:
    _, spool, counters = ship(tmp_path, peer, lines=5)
    assert spool.pending_batches == 0
    assert _sent(peer) == [
        ("batch-0", [0, 1, 2, 3, 4]),
        ("batch-0.1", [0, 1]),  # the first half: too large again, split again
        ("batch-0.1.1", [0]),
        ("batch-0.1.2", [1]),
        ("batch-0.2", [2, 3, 4]),
    ]
    assert (counters.batches_split, counters.batches_quarantined, counters.batches_acked) == (2, 0, 3)


@pytest.mark.parametrize("peer", [[TOO_LARGE]], indirect=True)
def test_a_single_record_too_large_is_quarantined(tmp_path: Path, peer: ScriptedPeer) -> None:
    _, spool, counters = ship(tmp_path, peer, lines=1)
    assert spool.pending_batches == 0 and counters.batches_quarantined == 1
    assert [h["X-Batch-Id"] for h, _ in peer.requests] == ["batch-0"]


BUG = (500, {}, b'{"error":"the server failed to apply this batch (TypeError)","retryable":false}')


@pytest.mark.parametrize("peer", [[BUG] * 5 + [OK]], indirect=True)
def test_a_server_error_is_retried_a_few_times_then_the_batch_is_quarantined(
    tmp_path: Path, peer: ScriptedPeer
) -> None:
    _, spool, counters = ship(tmp_path, peer, batches=2)
    assert spool.pending_batches == 0
    ids = [h["X-Batch-Id"] for h, _ in peer.requests]
    assert ids == ["batch-0"] * 5 + ["batch-1"]  # the next batch is not blocked behind it
    assert (counters.batches_quarantined, counters.batches_acked) == (1, 1)
    note = json.loads((tmp_path / "quarantine" / "batch-0.json").read_text())
    assert note["status"] == 500 and "TypeError" in note["message"]


@pytest.mark.parametrize("peer", [[(503, {}, b'{"error":"busy"}')] * 8 + [OK]], indirect=True)
def test_unavailable_is_retried_for_as_long_as_it_takes(tmp_path: Path, peer: ScriptedPeer) -> None:
    _, _, counters = ship(tmp_path, peer)
    assert (counters.retries, counters.batches_quarantined, counters.batches_acked) == (8, 0, 1)


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1_0", "+5", " 7 "])
def test_retry_after_reads_only_ascii_digits(value: str) -> None:
    expected = 7.0 if value.strip() == "7" else 0.0
    assert _retry_after(httpx.Response(503, headers={"Retry-After": value.encode()})) == expected


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize("peer", [[OK]], indirect=True)
def test_batches_in_flight_answered_out_of_order_are_acked_in_spool_order(tmp_path: Path, peer: ScriptedPeer) -> None:
    peer.held["batch-0"] = release = threading.Event()  # the oldest batch is answered last
    shipping = Shipping(tmp_path, peer, batches=6, lines=1, in_flight=3)
    try:
        _wait(lambda: shipping.counters.batches_acked == 2, "batch-1 and batch-2 to be answered")
        time.sleep(0.2)
        assert sorted(h["X-Batch-Id"] for h, _ in peer.requests) == ["batch-0", "batch-1", "batch-2"]  # 3 at once
        assert shipping.spool.pending_batches == 6  # answered, but not acked past the unanswered batch-0
        release.set()
        shipping.finish()
    finally:
        release.set()
    assert shipping.spool.pending_batches == 0 and shipping.counters.batches_acked == 6
    assert sorted(h["X-Batch-Id"] for h, _ in peer.requests) == [f"batch-{i}" for i in range(6)]


@pytest.mark.parametrize("peer", [[OK]], indirect=True)
def test_a_stop_with_the_oldest_batch_unanswered_sends_everything_after_it_again(
    tmp_path: Path, peer: ScriptedPeer
) -> None:
    peer.held["batch-0"] = release = threading.Event()
    shipping = Shipping(tmp_path, peer, batches=4, lines=1, in_flight=4, timeout="1s")
    try:
        _wait(lambda: shipping.counters.batches_acked == 3, "batch-1 to batch-3 to be answered")
        shipping.stop.set()  # batch-0's request times out, and is not retried once stopped
        shipping.thread.join(10)
        assert not shipping.thread.is_alive() and shipping.spool.pending_batches == 4
    finally:
        release.set()
    shipping.spool.close()
    reopened = DiskSpool(tmp_path / "spool", max_bytes=1 << 20, segment_bytes=1 << 16)
    assert reopened.open().batches == 4  # all of them again: the server drops the ones it applied (replays)


def test_the_ack_window_is_unchanged_when_the_spool_cannot_ack(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path / "spool", max_bytes=1 << 20, segment_bytes=1 << 16)
    spool.open()
    spool.commit([(f"b{i}", 1, gzip.compress(line(i))) for i in range(2)], encode_checkpoint(Checkpoint(1)), 1)
    window = AckWindow(spool, 2)
    first, second = spool.next_unsent(timeout=0), spool.next_unsent(timeout=0)
    assert first is not None and second is not None
    for batch in (first, second):
        window.places.acquire()
        window.take(batch.ref)
    window.done(second.ref)  # answered first: waits for b0
    assert spool.pending_batches == 2
    real_ack, failures = spool.ack, [OSError("disk gone")]

    def failing_ack(ref: SpoolRef) -> None:
        if failures:
            raise failures.pop()
        real_ack(ref)

    spool.ack = failing_ack  # type: ignore[method-assign]
    with pytest.raises(OSError):
        window.done(first.ref)
    assert spool.pending_batches == 2
    window.done(first.ref)  # the sender's retry: both go, in order
    assert spool.pending_batches == 0 and window.places.acquire(blocking=False) and window.places.acquire(blocking=False)
