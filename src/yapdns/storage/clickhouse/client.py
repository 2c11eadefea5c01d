"""Connections to ClickHouse: a server over the native protocol, or chDB embedded in this process.

Both offer the same three calls, so the store's SQL runs unchanged on either:

* ``rows(sql, params)``: one SELECT, every value bound by ``%(name)s`` placeholders
  (clickhouse-driver's escaping, for chDB too);
* ``insert(table, columns, data)``: one INSERT of column lists, sent as ONE block
  (so it lands in one part, all or nothing);
* ``command(sql)``: DDL.

Failures a retry can cure (connection refused or lost, timeouts, a server going away) become
``StoreUnavailable``; errors the server reports about a statement stay as they are.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import msgspec
from clickhouse_driver import Client as NativeDriver  # type: ignore[import-untyped]
from clickhouse_driver import errors as driver_errors
from clickhouse_driver.util.escape import escape_params  # type: ignore[import-untyped]

from yapdns.core.errors import ConfigurationError
from yapdns.storage.base import StoreUnavailable

Params = Mapping[str, Any]
ONE_BLOCK = 1 << 40  # rows per insert block: never split a write into several parts
# Settings of every write: aggregate a whole input block in one pass, so a materialized view's output is one
# block (one part) too.
WRITE_SETTINGS = {"group_by_two_level_threshold": 0, "group_by_two_level_threshold_bytes": 0}
# Settings of every read: a GROUP BY whose state outgrows this many bytes spills to disk (still exact), so a
# whole-table aggregate fits a server's per-query memory limit; the initiator of a Distributed query merges
# the shards' results bucket by bucket. URL option ``max_bytes_before_external_group_by`` overrides the bound.
SPILL_BYTES = 512 << 20
READ_SETTINGS = {"max_bytes_before_external_group_by": SPILL_BYTES, "distributed_aggregation_memory_efficient": 1}
QUORUM_TIMEOUT_MS = 10_000
_QUORUM_UNREACHABLE = frozenset({285, 286})  # too few live replicas; an earlier quorum write is unsatisfied
# Server error codes a retry can cure: timeouts, too many parts/queries, memory limit, network, read-only replica.
_TRANSIENT_CODES = frozenset({159, 160, 164, 202, 203, 209, 210, 241, 242, 252, 285, 319, 425})


class Connection(Protocol):
    """What the store needs of a ClickHouse connection."""

    database: str

    def rows(
        self, sql: str, params: Params | None = None, settings: Mapping[str, int] | None = None
    ) -> list[tuple[Any, ...]]: ...

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None: ...

    def command(self, sql: str, params: Params | None = None) -> None: ...

    def close(self) -> None: ...


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (OSError, EOFError, driver_errors.NetworkError, driver_errors.SocketTimeoutError)):
        return True
    return isinstance(exc, driver_errors.ServerException) and exc.code in _TRANSIENT_CODES


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise retryable driver failures as ``StoreUnavailable``."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as exc:
        if _transient(exc):
            raise StoreUnavailable(f"ClickHouse: {exc}") from exc
        raise


class NativeConnection:
    """A small pool of clickhouse-driver clients to one server (a client serves one query at a time)."""

    def __init__(self, url: str, pool_size: int = 4) -> None:
        parts = urlsplit(url)
        self.database = unquote(parts.path.lstrip("/")) or "default"
        if not _valid_name(self.database):
            raise ConfigurationError(f"ClickHouse database name must be letters, digits and _, got {self.database!r}")
        self.options = dict(parse_qsl(parts.query))
        self._kwargs: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 9000,
            "user": unquote(parts.username or "default"),
            "password": unquote(parts.password or ""),
            "connect_timeout": 5,
            "send_receive_timeout": 300,
            # distributed_product_mode: an IN (subquery) over the Distributed tables of a cluster runs once
            "settings": {"insert_block_size": ONE_BLOCK, "distributed_product_mode": "global"},
        }
        if "alt_hosts" in self.options:  # the other replicas of a shard, tried in turn when one is down
            self._kwargs["alt_hosts"] = self.options.pop("alt_hosts")
        self._quorum = int(self.options.pop("insert_quorum", "0"))
        self._read_settings = read_settings(self.options)
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._pool_size = pool_size

    def _client(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return NativeDriver(**self._kwargs)

    @contextmanager
    def _use(self) -> Iterator[Any]:
        client = self._client()
        ok = False
        try:
            with translated():
                yield client
            ok = True
        finally:
            if ok and self._idle.qsize() < self._pool_size:
                self._idle.put(client)
            else:
                client.disconnect()

    def rows(
        self, sql: str, params: Params | None = None, settings: Mapping[str, int] | None = None
    ) -> list[tuple[Any, ...]]:
        """One SELECT with ``READ_SETTINGS`` and ``settings`` (this statement's own, e.g. ``max_threads``)."""
        with self._use() as client:
            merged = {**self._read_settings, **settings} if settings else self._read_settings
            return list(client.execute(sql, params or None, settings=merged))

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        """One block; on a replicated shard, acknowledged only once every replica has it (``insert_quorum``),
        or once the live replica has it while another is down."""
        settings: dict[str, Any] = dict(WRITE_SETTINGS)
        if self._quorum > 1:
            settings.update(insert_quorum=self._quorum, insert_quorum_timeout=QUORUM_TIMEOUT_MS)
        try:
            self._insert(table, columns, data, settings)
        except StoreUnavailable as exc:
            cause = exc.__cause__
            if self._quorum <= 1 or getattr(cause, "code", None) not in _QUORUM_UNREACHABLE:
                raise
            settings.pop("insert_quorum")
            self._insert(table, columns, data, settings)

    def _insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]], settings: Params) -> None:
        with self._use() as client:
            client.execute(
                f"INSERT INTO {self.database}.{table} ({', '.join(columns)}) VALUES",
                data,
                columnar=True,
                types_check=False,
                settings=settings,
            )

    def command(self, sql: str, params: Params | None = None) -> None:
        with self._use() as client:
            client.execute(sql, params or None)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().disconnect()
            except queue.Empty:
                return


_CHDB_LOCK = threading.Lock()
_CHDB: dict[str, Any] = {}  # the process's one chDB session, by its directory


class ChdbConnection:
    """chDB (embedded current ClickHouse): one session per process, queries serialized by a lock."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.options = dict(parse_qsl(parts.query))
        self.database = self.options.pop("database", "yapdns")
        self._read_settings = {**read_settings(self.options), "output_format_json_quote_64bit_integers": 0}
        if not _valid_name(self.database):
            raise ConfigurationError(f"ClickHouse database name must be letters, digits and _, got {self.database!r}")
        path = unquote(parts.path) or ":memory:"
        with _CHDB_LOCK:
            if not _CHDB:
                from chdb import session

                _CHDB[path] = session.Session(None if path == ":memory:" else path)  # type: ignore[no-untyped-call]
            if path not in _CHDB:
                raise ConfigurationError(f"chDB runs one data directory per process; {next(iter(_CHDB))} is open")
            self._session = _CHDB[path]

    def _query(self, sql: str, fmt: str = "JSONCompactEachRow") -> bytes:
        with _CHDB_LOCK:
            result = self._session.query(sql, fmt)
        return bytes(result.bytes()) if result is not None else b""

    def rows(
        self, sql: str, params: Params | None = None, settings: Mapping[str, int] | None = None
    ) -> list[tuple[Any, ...]]:
        text = substitute(sql, params)
        merged = {**self._read_settings, **settings} if settings else self._read_settings
        out = self._query(f"{text} SETTINGS {', '.join(f'{k} = {int(v)}' for k, v in merged.items())}")
        return [tuple(msgspec.json.decode(line)) for line in out.splitlines() if line]

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        lines = "\n".join("\t".join(_tsv(v) for v in row) for row in zip(*data, strict=True))
        settings = ", ".join(f"{k} = {v}" for k, v in WRITE_SETTINGS.items())
        self._query(
            f"INSERT INTO {self.database}.{table} ({', '.join(columns)}) SETTINGS {settings} "
            f"FORMAT TabSeparated\n{lines}\n"
        )

    def command(self, sql: str, params: Params | None = None) -> None:
        self._query(substitute(sql, params))

    def close(self) -> None:
        """The session lives as long as the process (chDB allows one)."""


def read_settings(options: dict[str, str]) -> dict[str, int]:
    """``READ_SETTINGS``, with the spill bound a store URL gives (popped from ``options``)."""
    spill = int(options.pop("max_bytes_before_external_group_by", SPILL_BYTES))
    return {**READ_SETTINGS, "max_bytes_before_external_group_by": spill}


def substitute(sql: str, params: Params | None) -> str:
    """``sql`` with its ``%(name)s`` placeholders replaced by escaped literals (clickhouse-driver's escaping)."""
    return sql % escape_params(params, None) if params else sql


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def _tsv(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    return str(int(value))


def _valid_name(name: str) -> bool:
    return name.replace("_", "a").isalnum() and name.isascii() and not name[0].isdigit()


def connect(url: str) -> NativeConnection | ChdbConnection:
    """The connection a store URL names: ``clickhouse://host:port/db`` or ``chdb:///dir?database=db``."""
    scheme = url.partition(":")[0].lower()
    if scheme == "chdb":
        return ChdbConnection(url)
    return NativeConnection(url)
