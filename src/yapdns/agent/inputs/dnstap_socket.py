"""dnstap listeners (``type: dnstap_socket``): unix and TCP sockets that BIND, unbound, Knot or dnsdist write to.

One thread serves every connection through a selector, so a slow, silent or
hostile peer never holds up the others. Each connection speaks Frame
Streams: the bidirectional handshake (READY → ACCEPT, START, data, STOP →
FINISH) that BIND and unbound use, or a plain START...STOP stream. A peer
that offers another content type, sends garbage, oversize or data-before-
START frames, or disconnects mid-frame is counted and dropped; the
listener goes on. ``emit`` blocking (spool full) pauses reading, and the
senders' own queues absorb it, as dnstap intends.

With ``once``, ``run`` returns when the connections seen so far have all
ended (for tests and one-shot imports).
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import socket
import stat
import threading

import msgspec

from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.wire.dnstap import RESPONSE_TYPES, DnstapDecoder
from yapdns.agent.wire.fstrm import (
    ACCEPT,
    CONTENT_TYPE,
    DEFAULT_MAX_FRAME,
    FINISH,
    READY,
    START,
    STOP,
    Frame,
    FrameDecoder,
    FrameError,
    accepts_dnstap,
    encode_control,
)
from yapdns.core.digits import ascii_digits
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Observation

RECV_SIZE = 256 * 1024


class DnstapSocketOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of a ``type: dnstap_socket`` input (at least one of ``unix`` and ``tcp``)."""

    unix: str | None = None  # path of a unix socket to create
    unix_mode: int = 0o660  # its permissions (the DNS server's user must be able to connect)
    tcp: str | None = None  # "host:port" to listen on; port 0 picks a free one
    sensor_id: str | None = None  # overrides the dnstap identity
    message_types: list[str] = msgspec.field(default_factory=lambda: list(RESPONSE_TYPES))
    max_connections: int = 64
    max_frame: int = DEFAULT_MAX_FRAME
    batch_size: int = 500

    def __post_init__(self) -> None:
        if not self.unix and not self.tcp:
            raise ConfigurationError("dnstap_socket needs `unix` or `tcp`")
        unknown = set(self.message_types) - set(RESPONSE_TYPES)
        if unknown:
            raise ConfigurationError(f"unknown dnstap message types {sorted(unknown)}")


class _Connection:
    def __init__(self, sock: socket.socket, peer: str, max_frame: int) -> None:
        self.sock = sock
        self.peer = peer
        self.frames = FrameDecoder(max_frame)
        self.started = False


class DnstapSocketInput(AgentInput):
    """Listens for dnstap senders on a unix and/or TCP socket."""

    settings_type = DnstapSocketOptions  # its keys in agent.yml (inputs/base.py: the input-type registry)

    def __init__(self, name: str, options: DnstapSocketOptions) -> None:
        super().__init__(name)
        self.options = options
        self.counters: collections.Counter[str] = collections.Counter()
        self.decoder = DnstapDecoder(self.stats, self.counters, options.sensor_id, options.message_types)
        self.tcp_address: tuple[str, int] | None = None
        self._selector: selectors.BaseSelector | None = None
        self._listeners: list[socket.socket] = []
        self._connections: dict[int, _Connection] = {}
        self._seen = 0

    def open(self) -> None:
        """Create the listening sockets (``run`` calls it if needed; tests call it to learn the port)."""
        if self._selector is not None:
            return
        self._selector = selectors.DefaultSelector()
        if self.options.unix:
            self._listen(self._unix_listener(self.options.unix))
        if self.options.tcp:
            sock = _tcp_listener(self.options.tcp)
            self.tcp_address = sock.getsockname()[:2]
            self._listen(sock)

    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        self.open()
        assert self._selector is not None
        try:
            while not stop.is_set():
                batch: list[Observation] = []
                for key, _ in self._selector.select(timeout=0.2):
                    self._ready(key.fileobj, batch)  # type: ignore[arg-type]
                if batch:
                    emit(batch)
                if once and self._seen and not self._connections:
                    return
        finally:
            self.close()

    def close(self) -> None:
        for conn in list(self._connections.values()):
            self._drop(conn)
        for sock in self._listeners:
            sock.close()
        if self.options.unix:
            with contextlib.suppress(OSError):
                os.unlink(self.options.unix)
        if self._selector is not None:
            self._selector.close()
        self._listeners = []
        self._selector = None

    def stats_dict(self) -> dict[str, object]:
        return {**super().stats_dict(), "counters": dict(self.counters), "connections": len(self._connections)}

    def _unix_listener(self, path: str) -> socket.socket:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)  # a stale socket from a previous run
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        os.chmod(path, self.options.unix_mode)
        sock.listen(16)
        return sock

    def _listen(self, sock: socket.socket) -> None:
        assert self._selector is not None
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ)
        self._listeners.append(sock)

    def _ready(self, sock: socket.socket, batch: list[Observation]) -> None:
        if sock in self._listeners:
            self._accept(sock)
            return
        conn = self._connections.get(sock.fileno())
        if conn is not None:
            self._receive(conn, batch)

    def _accept(self, listener: socket.socket) -> None:
        assert self._selector is not None
        try:
            sock, addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if len(self._connections) >= self.options.max_connections:
            self.counters["connections_refused"] += 1
            sock.close()
            return
        sock.setblocking(False)
        peer = f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else "unix"
        self._connections[sock.fileno()] = _Connection(sock, peer, self.options.max_frame)
        self._selector.register(sock, selectors.EVENT_READ)
        self.counters["connections"] += 1
        self._seen += 1

    def _receive(self, conn: _Connection, batch: list[Observation]) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            data = b""  # a reset is an end of stream like any other
        except OSError as exc:
            self.stats.bad(0, "connection_error", str(exc), conn.peer)
            self._drop(conn)
            return
        if not data:
            if conn.frames.pending:
                self.stats.bad(0, "disconnect_mid_frame", f"{conn.frames.pending} bytes unfinished", conn.peer)
            self._drop(conn)
            return
        conn.frames.feed(data)
        try:
            self._frames(conn, batch)
        except FrameError as exc:
            self.stats.bad(0, exc.code, str(exc), conn.peer)
            self._drop(conn)

    def _frames(self, conn: _Connection, batch: list[Observation]) -> None:
        for frame in conn.frames.frames():
            if frame.control:
                if not self._control(conn, frame):
                    return
            elif not conn.started:
                raise FrameError("no_start_frame", "data frame before START")
            else:
                batch.extend(self.decoder.decode(frame.payload, self.stats.lines + 1))

    def _control(self, conn: _Connection, frame: Frame) -> bool:
        """Answer one control frame; False once the connection is closed."""
        if frame.control in (READY, START) and not accepts_dnstap(frame):
            self.stats.bad(0, "wrong_content_type", repr(frame.content_types)[:200], conn.peer)
            self._drop(conn)
            return False
        if frame.control == READY:
            return self._send(conn, encode_control(ACCEPT, (CONTENT_TYPE,)))
        if frame.control == START:
            conn.started = True
            return True
        if frame.control == STOP:
            with contextlib.suppress(OSError):  # a sender that does not wait for FINISH is fine
                conn.sock.send(encode_control(FINISH))
            self._drop(conn)
            return False
        self.counters["unexpected_control_frame"] += 1
        return True

    def _send(self, conn: _Connection, data: bytes) -> bool:
        try:
            conn.sock.send(data)  # a control frame is far below any socket buffer
        except OSError as exc:
            self.stats.bad(0, "connection_error", str(exc), conn.peer)
            self._drop(conn)
            return False
        return True

    def _drop(self, conn: _Connection) -> None:
        if self._connections.pop(conn.sock.fileno(), None) is None:
            return
        if self._selector is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        conn.sock.close()


def _tcp_listener(spec: str) -> socket.socket:
    host, _, port = spec.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not ascii_digits(port):
        raise ConfigurationError(f"tcp must be host:port, not {spec!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(16)
    return sock


INPUT = DnstapSocketInput
OPTIONS = DnstapSocketOptions
