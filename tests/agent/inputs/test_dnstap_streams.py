"""dnstap files and listeners under stress, on BIND's real dnstap frames (data/bind9_auth_client.dnstap).

Files that grow or stop mid-frame, resumed reads, and a listener that serves
a good sender while others send garbage, the wrong content type, oversize
frames, nothing at all, or hang up mid-frame. Frame Streams split at any byte
are tests/agent/wire/test_fstrm.py.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.agent.wire.captured import DNSTAP, dnstap_frames
from tests.agent.wire.wirecheck import Collector, rrs_of
from yapdns.agent.inputs.dnstap import DnstapFileInput, DnstapFileOptions
from yapdns.agent.inputs.dnstap_socket import DnstapSocketInput, DnstapSocketOptions
from yapdns.agent.wire.fstrm import (
    ACCEPT,
    CONTENT_TYPE,
    FINISH,
    READY,
    START,
    STOP,
    encode_control,
    encode_data,
)
from yapdns.core.model import Observation

RAW = DNSTAP.read_bytes()


def read_file(path: Path, **options: object) -> tuple[list[Observation], DnstapFileInput]:
    inp = DnstapFileInput("f", DnstapFileOptions(paths=[str(path)], **options))  # type: ignore[arg-type]
    out: list[Observation] = []
    inp.run(out.extend, threading.Event(), once=True)
    return out, inp


def test_bind_file_frames_all_decode() -> None:
    out, inp = read_file(DNSTAP)
    assert len(dnstap_frames()) == inp.stats.lines > 10
    assert inp.stats.error_count == 0 and len(rrs_of(out)) > 90


def test_a_truncated_file_keeps_its_whole_frames(tmp_path: Path) -> None:
    cut = tmp_path / "cut.dnstap"
    cut.write_bytes(RAW[: len(RAW) - 40])
    out, inp = read_file(cut)
    assert inp.stats.errors["truncated_frame"] == 1
    assert inp.stats.lines == len(dnstap_frames()) - 1 and out


def test_a_growing_file_is_followed_to_its_stop_frame(tmp_path: Path) -> None:
    path = tmp_path / "grow.dnstap"
    path.write_bytes(RAW[:500])
    inp = DnstapFileInput("g", DnstapFileOptions(paths=[str(path)], poll_interval=0.02))
    with Collector(inp.run) as col:
        for start in range(500, len(RAW), 333):
            time.sleep(0.05)
            with path.open("ab") as fh:
                fh.write(RAW[start : start + 333])
        col.wait_for(lambda _: not inp._files and inp.stats.lines == len(dnstap_frames()))
    assert inp.stats.lines == len(dnstap_frames())
    assert rrs_of(col.observations) == rrs_of(read_file(DNSTAP)[0])
    assert inp.stats.error_count == 0


def test_a_restart_resumes_after_the_checkpoint(tmp_path: Path) -> None:
    path, state = tmp_path / "a.dnstap", tmp_path / "state.json"
    stop_at = RAW.rindex(encode_control(STOP))
    path.write_bytes(RAW[:stop_at])  # still being written: no STOP yet
    first, inp = read_file(path, state_file=str(state))
    inp.checkpoint()
    with path.open("ab") as fh:
        fh.write(RAW[stop_at:])
    second, inp2 = read_file(path, state_file=str(state))
    assert first and second == [] and inp2.stats.lines == 0  # nothing read twice
    third, _ = read_file(path)  # without the state everything is read again
    assert len(third) == len(first)


def test_a_file_with_another_content_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.fstrm"
    path.write_bytes(encode_control(START, (b"protobuf:something.Else",)) + encode_data(b"\x01\x02"))
    out, inp = read_file(path)
    assert out == [] and inp.stats.errors["wrong_content_type"] == 1


def _handshake(sock: socket.socket, content_type: bytes = CONTENT_TYPE) -> bytes:
    sock.sendall(encode_control(READY, (content_type,)))
    return sock.recv(100)


def test_listener_serves_a_good_sender_whatever_the_others_do(tmp_path: Path) -> None:
    path = tmp_path / "tap.sock"
    inp = DnstapSocketInput("l", DnstapSocketOptions(unix=str(path), tcp="127.0.0.1:0", max_frame=65536))
    inp.open()
    assert inp.tcp_address is not None
    frames = dnstap_frames()
    expected = rrs_of(read_file(DNSTAP)[0])
    with Collector(inp.run) as col:
        silent = socket.socket(socket.AF_UNIX)
        silent.connect(str(path))  # connects and never says a word
        garbage = socket.create_connection(inp.tcp_address)
        garbage.sendall(os.urandom(4096))
        wrong = socket.socket(socket.AF_UNIX)
        wrong.connect(str(path))
        refused = _handshake(wrong, b"protobuf:other.Type")
        huge = socket.create_connection(inp.tcp_address)
        huge.sendall(encode_control(START, (CONTENT_TYPE,)) + b"\x7f\xff\xff\xff")
        cut = socket.socket(socket.AF_UNIX)
        cut.connect(str(path))
        cut.sendall(encode_control(START, (CONTENT_TYPE,)) + encode_data(frames[0])[:-5])
        cut.close()  # hangs up in the middle of a frame
        good = socket.create_connection(inp.tcp_address)
        accept = _handshake(good)
        good.sendall(encode_control(START, (CONTENT_TYPE,)) + b"".join(encode_data(f) for f in frames))
        good.sendall(encode_control(STOP))
        finish = good.recv(100)
        col.wait_for(lambda obs: rrs_of(obs) >= expected)
        for s in (silent, garbage, wrong, huge, good):
            s.close()
    assert accept == encode_control(ACCEPT, (CONTENT_TYPE,)) and finish == encode_control(FINISH)
    assert refused == b""  # dropped without an ACCEPT
    assert rrs_of(col.observations) == expected
    errors = inp.stats.errors
    assert errors["wrong_content_type"] == 1 and errors["disconnect_mid_frame"] == 1
    # the oversize frame, and the random bytes (read as a huge length, a bad control frame or data before START)
    assert errors["frame_too_large"] >= 1
    assert errors["frame_too_large"] + errors["bad_control_frame"] + errors["no_start_frame"] == 2
    assert not path.exists()  # the socket file is removed on stop


def test_several_senders_at_once(tmp_path: Path) -> None:
    inp = DnstapSocketInput("l", DnstapSocketOptions(tcp="127.0.0.1:0"))
    inp.open()
    assert inp.tcp_address is not None
    frames = dnstap_frames()
    stream = encode_control(START, (CONTENT_TYPE,)) + b"".join(encode_data(f) for f in frames) + encode_control(STOP)

    def send(chunk: int) -> None:
        with socket.create_connection(inp.tcp_address) as s:  # type: ignore[arg-type]
            _handshake(s)
            for i in range(0, len(stream), chunk):
                s.sendall(stream[i : i + chunk])
            s.recv(100)

    with Collector(inp.run) as col:
        senders = [threading.Thread(target=send, args=(c,)) for c in (1, 7, 100, 4096)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(timeout=60)
        col.wait_for(lambda _: inp.stats.lines == 4 * len(frames))
    assert inp.stats.lines == 4 * len(frames) and inp.stats.error_count == 0
    assert inp.counters["connections"] == 4


@pytest.mark.parametrize("spec", ["nonsense", "127.0.0.1:http"])
def test_bad_tcp_address_is_a_configuration_error(spec: str) -> None:
    from yapdns.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        DnstapSocketInput("l", DnstapSocketOptions(tcp=spec)).open()


def test_a_finished_file_is_not_followed_again_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _, inp = read_file(DNSTAP, state_file=str(state))
    inp.checkpoint()
    again = DnstapFileInput("f", DnstapFileOptions(paths=[str(DNSTAP)], state_file=str(state), poll_interval=0.02))
    with Collector(again.run) as col:
        col.wait_for(lambda _: bool(again._finished))
    assert again._finished and not again._files  # closed at once: its STOP frame had been read
    assert col.observations == [] and again.stats.lines == 0
