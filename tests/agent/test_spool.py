"""The disk spool: commits are all-or-nothing, bad frames are skipped and counted, space is bounded."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pytest

from yapdns.agent import spool_format as fmt
from yapdns.agent.positions import Checkpoint, PositionsFile, decode_checkpoint, encode_checkpoint
from yapdns.agent.spool import DiskSpool


def body(n: int) -> bytes:
    return gzip.compress(b"".join(b'{"rrname":"h%d.example","rrtype":"A"}\n' % i for i in range(n)))


def checkpoint(seq: int, offset: int) -> bytes:
    return encode_checkpoint(Checkpoint(seq, {"files": {"f": offset}}))


def opened(path: Path, **kw: int) -> DiskSpool:
    spool = DiskSpool(path, max_bytes=kw.get("max_bytes", 1 << 20), segment_bytes=kw.get("segment_bytes", 64 << 10))
    spool.open()
    return spool


def drain(spool: DiskSpool) -> list[str]:
    ids = []
    while (batch := spool.next_batch(timeout=0)) is not None:
        ids.append(batch.batch_id)
        spool.ack(batch.ref)
    return ids


def segments(path: Path) -> list[Path]:
    return sorted(path.glob("*.seg"))


def test_batches_come_back_in_order_until_acked_and_survive_a_restart(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.commit([("b1", 3, body(3)), ("b2", 2, body(2))], checkpoint(1, 100), 1)
    spool.commit([("b3", 1, body(1))], checkpoint(2, 200), 2)
    first = spool.next_batch(timeout=0)
    assert first is not None and (first.batch_id, first.observations) == ("b1", 3)
    assert gzip.decompress(first.body).count(b"\n") == 3
    again = spool.next_batch(timeout=0)
    assert again is not None and again.batch_id == "b1"  # not acked: the same batch again
    spool.ack(first.ref)
    spool.close()

    reopened = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64 << 10)
    recovery = reopened.open()
    assert recovery.checkpoint is not None and decode_checkpoint(recovery.checkpoint).seq == 2
    assert recovery.batches == 2 and recovery.discarded_bytes == 0
    assert drain(reopened) == ["b2", "b3"]
    assert reopened.stats()["batches"] == 0


def test_several_batches_in_flight_are_acked_in_order_and_the_cursor_never_passes_an_unacked_one(
    tmp_path: Path,
) -> None:
    spool = opened(tmp_path, segment_bytes=4096)
    spool.commit([("b1", 1, body(1)), ("b2", 1, body(1))], checkpoint(1, 1), 1)
    spool.commit([("b3", 1, os.urandom(5000))], checkpoint(2, 2), 2)  # fills its segment: b4 in the next one
    spool.commit([("b4", 1, body(1))], checkpoint(3, 3), 3)
    spool.set_registry_seq(3)
    handed = [spool.next_unsent(timeout=0) for _ in range(4)]
    assert [b.batch_id for b in handed if b] == ["b1", "b2", "b3", "b4"] and spool.next_unsent(timeout=0) is None
    assert [b.ref.segment for b in handed if b] == [handed[0].ref.segment] * 3 + [handed[0].ref.segment + 1]
    first, second = handed[0].ref, handed[1].ref  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="out of order"):
        spool.ack(second)  # answered before b1: the shipper holds it until b1 is acked
    spool.ack(first)
    spool.ack(second)
    spool.close()  # b3 and b4 in flight: a crash or a stop now sends them again
    reopened = opened(tmp_path, segment_bytes=4096)
    assert drain(reopened) == ["b3", "b4"]


def test_rewind_hands_out_the_unacked_batches_again(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.commit([("b1", 1, body(1)), ("b2", 1, body(1)), ("b3", 1, body(1))], checkpoint(1, 1), 1)
    b1, b2 = spool.next_unsent(timeout=0), spool.next_unsent(timeout=0)
    assert b1 is not None and b2 is not None
    spool.ack(b1.ref)
    spool.rewind()
    assert drain(spool) == ["b2", "b3"] and spool.pending_batches == 0


def test_an_unfinished_commit_is_dropped_with_its_positions(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.commit([("b1", 1, body(1))], checkpoint(1, 100), 1)
    spool.close()
    [segment] = segments(tmp_path)[-1:]
    with segment.open("ab") as fh:  # a crash after the batch frames, before the checkpoint frame
        fh.write(fmt.encode_frame(fmt.TYPE_BATCH, fmt.encode_batch("lost", 1, body(1))))
        fh.write(fmt.encode_frame(fmt.TYPE_CHECKPOINT, checkpoint(2, 999))[:20])  # torn
    recovery = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64 << 10).open()
    assert recovery.checkpoint is not None and decode_checkpoint(recovery.checkpoint).seq == 1
    assert recovery.discarded_bytes > 0
    again = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64 << 10)
    again.open()
    assert drain(again) == ["b1"]  # "lost" never reached the shipper: its lines will be read again


def _three_batches_the_second_corrupt(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    for i in range(3):
        spool.commit([(f"b{i}", 1, body(1))], checkpoint(i + 1, i), i + 1)
    spool.close()
    segment = next(s for s in segments(tmp_path) if s.stat().st_size > fmt.SEGMENT_HEADER.size)
    data = bytearray(segment.read_bytes())
    data[data.index(b"b1") + 10] ^= 0xFF  # inside the second batch frame's payload
    segment.write_bytes(bytes(data))


def test_a_corrupt_frame_is_counted_and_skipped_the_rest_survives(tmp_path: Path) -> None:
    _three_batches_the_second_corrupt(tmp_path)
    reopened = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64 << 10)
    recovery = reopened.open()
    assert recovery.corrupt_frames == 1
    assert drain(reopened) == ["b0", "b2"]
    assert reopened.corrupt_frames == 1


def test_a_corrupt_frame_between_batches_in_flight_is_counted_once(tmp_path: Path) -> None:
    _three_batches_the_second_corrupt(tmp_path)
    reopened = opened(tmp_path)
    b0, b2 = reopened.next_unsent(timeout=0), reopened.next_unsent(timeout=0)
    assert b0 is not None and b2 is not None and (b0.batch_id, b2.batch_id) == ("b0", "b2")
    reopened.rewind()  # handed out again, over the same bad frame
    assert drain(reopened) == ["b0", "b2"]
    assert reopened.corrupt_frames == 1


def test_garbage_in_a_segment_resynchronises_on_the_next_frame(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.commit([("b0", 1, body(1))], checkpoint(1, 0), 1)
    spool.close()
    segment = next(s for s in segments(tmp_path) if s.stat().st_size > fmt.SEGMENT_HEADER.size)
    data = segment.read_bytes()
    head = fmt.SEGMENT_HEADER.size
    segment.write_bytes(data[:head] + os.urandom(100).replace(b"YPFR", b"xxxx") + data[head:])
    reopened = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64 << 10)
    assert reopened.open().corrupt_frames == 1
    assert drain(reopened) == ["b0"]


def test_segments_are_deleted_only_when_acked_and_the_registry_caught_up(tmp_path: Path) -> None:
    spool = opened(tmp_path, segment_bytes=4096)
    big = os.urandom(5000)  # incompressible: one commit fills a segment
    spool.commit([("b1", 1, big)], checkpoint(1, 1), 1)
    spool.commit([("b2", 1, big)], checkpoint(2, 2), 2)
    assert len(segments(tmp_path)) == 3  # two sealed, one being written
    batch = spool.next_batch(timeout=0)
    assert batch is not None
    spool.ack(batch.ref)
    assert len(segments(tmp_path)) == 3  # acked, but registry.json does not hold checkpoint 1 yet
    spool.set_registry_seq(2)
    assert len(segments(tmp_path)) == 2
    drain(spool)
    assert len(segments(tmp_path)) == 1


def test_a_full_spool_blocks_the_writer_until_the_shipper_frees_space(tmp_path: Path) -> None:
    spool = opened(tmp_path, max_bytes=16384, segment_bytes=4096)
    seq = 0
    while not spool.is_full():
        seq += 1
        spool.commit([(f"b{seq}", 1, os.urandom(3000))], checkpoint(seq, seq), seq)
        spool.set_registry_seq(seq)
    stop = threading.Event()
    assert spool.wait_writable(stop, timeout=0.2) is False  # nobody reads: still full
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(spool.wait_writable(stop)))
    waiter.start()
    assert drain(spool) == [f"b{i}" for i in range(1, seq + 1)]
    waiter.join(10)
    assert result == [True] and not spool.is_full()


@pytest.mark.parametrize("damage", ["bad magic", "bad version"])
def test_an_unreadable_segment_header_sets_the_segment_aside(tmp_path: Path, damage: str) -> None:
    spool = opened(tmp_path)
    spool.commit([("b1", 1, body(1))], checkpoint(1, 1), 1)
    spool.close()
    segment = next(s for s in segments(tmp_path) if s.stat().st_size > fmt.SEGMENT_HEADER.size)
    data = bytearray(segment.read_bytes())
    data[0 if damage == "bad magic" else 5] ^= 0xFF
    segment.write_bytes(bytes(data))
    recovery = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64 << 10).open()
    assert recovery.corrupt_frames == 1 and recovery.checkpoint is None
    assert list(tmp_path.glob("*.corrupt")) == [segment.with_suffix(".corrupt")]


def test_one_agent_per_data_directory(tmp_path: Path) -> None:
    from yapdns.agent.service import data_dir_lock
    from yapdns.core.errors import ConfigurationError

    with data_dir_lock(tmp_path), pytest.raises(ConfigurationError, match="another agent"), data_dir_lock(tmp_path):
        pass
    with data_dir_lock(tmp_path):  # released: free again
        pass


def test_segment_ids_are_never_reused_so_a_stale_cursor_cannot_skip_batches(tmp_path: Path) -> None:
    spool = opened(tmp_path, segment_bytes=4096)
    spool.commit([("old", 1, os.urandom(5000))], checkpoint(1, 1), 1)
    spool.set_registry_seq(1)
    assert drain(spool) == ["old"]  # acked: its segment is deleted, the cursor file names a later segment
    spool.close()
    stale = (tmp_path / "cursor.json").read_bytes()
    crashed = opened(tmp_path, segment_bytes=4096)  # a run that commits, then dies before saving its cursor
    crashed.commit([("new-1", 1, body(1)), ("new-2", 1, body(1))], checkpoint(2, 2), 2)
    (tmp_path / "cursor.json").write_bytes(stale)
    again = opened(tmp_path, segment_bytes=4096)  # starts a segment, commits, dies before shipping anything
    again.commit([("new-3", 1, body(1))], checkpoint(3, 3), 3)
    reopened = opened(tmp_path, segment_bytes=4096)
    assert drain(reopened) == ["new-1", "new-2", "new-3"]


def test_the_registry_reads_version_1_and_refuses_a_version_it_does_not_know(tmp_path: Path) -> None:
    registry = PositionsFile(tmp_path)
    registry.path.write_bytes(b'{"seq": 4, "inputs": {"files": {"f": 10}}, "version": 1}')
    assert registry.load() == Checkpoint(4, {"files": {"f": 10}}, version=1)
    registry.save(Checkpoint(5, {"files": {"f": 20}}))
    assert b'"version":2' in registry.path.read_bytes()
    registry.path.write_bytes(b'{"seq": 6, "inputs": {}, "version": 3}')
    with pytest.raises(ValueError, match="registry version 3"):
        registry.load()
    with pytest.raises(ValueError, match="registry version 3"):  # nor from the spool's checkpoint frames
        decode_checkpoint(registry.path.read_bytes())
