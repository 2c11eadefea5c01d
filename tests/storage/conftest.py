"""The ``store`` fixture: every contract test runs on every backend.

SQLite gets a fresh file under the test's tmp dir; PostgreSQL (the real
server at ``YAPDNS_TEST_PG_URL``, default 127.0.0.1:5432 db ``test``) gets a
fresh schema, dropped afterwards, so parallel runs never clash. PostgreSQL
is never mocked: if the server is down these tests fail. ClickHouse runs
three times: on the session's Debian 18.16 server (``clickhouse_server``),
on two 18.16 shards behind Distributed tables (``clickhouse_shards``) and on
chDB (a current ClickHouse in this process), each test in a fresh database.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from yapdns.storage.base import Store
from yapdns.storage.observe import WriterObserver, set_writer_observer, writer_observer

StoreFactory = Callable[..., Store]  # (migrate: bool = True) -> Store


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chDB's one data directory for the test process (chDB opens one per process)."""
    return tmp_path_factory.mktemp("chdb")


def clickhouse_url(request: pytest.FixtureRequest, backend: str, database: str) -> str:
    """A store URL for a fresh ClickHouse database: on the 18.16 test server, or on chDB."""
    if backend == "chdb":
        return f"chdb://{request.getfixturevalue('chdb_dir')}?database={database}"
    if backend == "clickhouse-2shards":
        shards = request.getfixturevalue("clickhouse_shards")
        return f"{shards[0].url(database)}?cluster=two_shards"
    server = request.getfixturevalue("clickhouse_server")
    return str(server.url(database))


def drop_clickhouse_database(url: str) -> None:
    """Drop the store's database on every node of its cluster (or its one node)."""
    from yapdns.storage.clickhouse.topology import Topology

    topology = Topology(url)
    for node in topology.nodes:
        node.command(f"DROP DATABASE IF EXISTS {topology.database}")
    topology.close()


BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("clickhouse", marks=pytest.mark.clickhouse),
    pytest.param("chdb", marks=pytest.mark.clickhouse),
    pytest.param("clickhouse-2shards", marks=[pytest.mark.clickhouse, pytest.mark.cluster]),
]


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (and migrates, unless told not to) stores over ONE database of the backend; all are closed afterwards."""
    opened: list[Store] = []
    schema = f"yapdns_test_{uuid.uuid4().hex[:12]}"
    ch_url = clickhouse_url(request, request.param, schema) if request.param.startswith(("clickhouse", "chdb")) else ""

    def make(migrate: bool = True) -> Store:
        store: Store
        if request.param == "sqlite":
            from yapdns.storage.sqlite.store import SqliteStore

            store = SqliteStore(tmp_path / "store.sqlite3", cache_mb=16)
        elif ch_url:
            from yapdns.storage.clickhouse.store import ClickHouseStore

            store = ClickHouseStore(ch_url)
        else:
            from yapdns.storage.postgres.store import PostgresStore

            store = PostgresStore(_with_schema(PG_URL, schema), pool_size=4)
        opened.append(store)
        if migrate:
            store.migrate()
        return store

    yield make
    for store in opened:
        store.close()
    if request.param == "postgresql":
        _drop_schema(schema)
    if ch_url:
        drop_clickhouse_database(ch_url)


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


class Queued:
    """A writer observer that tells when the writer's queue holds ``depth`` jobs (passing every call on)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.reached = threading.Event()
        self.next: WriterObserver | None = writer_observer()

    def queue_depth(self, writer: str, depth: int) -> None:
        if depth >= self.depth:
            self.reached.set()
        if self.next is not None:
            self.next.queue_depth(writer, depth)

    def group_applied(self, writer: str, observations: int, seconds: float) -> None:
        if self.next is not None:
            self.next.group_applied(writer, observations, seconds)


@pytest.fixture
def queued() -> Iterator[Queued]:
    """Installed as the writer observer for the test (``depth`` 2 unless the test changes it)."""
    watcher = Queued(2)
    set_writer_observer(watcher)
    yield watcher
    set_writer_observer(watcher.next)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The two-shard ClickHouse backend runs the contract suite (``test_contract*.py``) only: the other storage
    tests exercise what a shard does alone, which the single-node backend covers, and each two-shard test costs
    a cluster's worth of DDL and round trips."""
    for item in list(items):
        if "[clickhouse-2shards" in item.nodeid and not item.path.name.startswith("test_contract"):
            items.remove(item)
            config.hook.pytest_deselected(items=[item])
