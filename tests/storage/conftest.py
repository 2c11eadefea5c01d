"""The ``store`` fixture: every contract test runs on every backend.

SQLite gets a fresh file under the test's tmp dir; PostgreSQL (the real
server at ``YAPDNS_TEST_PG_URL``, default 127.0.0.1:5432 db ``test``) gets a
fresh schema, dropped afterwards, so parallel runs never clash. PostgreSQL
is never mocked: if the server is down these tests fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from yapdns.storage.base import Store

StoreFactory = Callable[..., Store]  # (migrate: bool = True) -> Store


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (and migrates, unless told not to) stores over ONE database of the backend; all are closed afterwards."""
    opened: list[Store] = []
    schema = f"yapdns_test_{uuid.uuid4().hex[:12]}"

    def make(migrate: bool = True) -> Store:
        store: Store
        if request.param == "sqlite":
            from yapdns.storage.sqlite.store import SqliteStore

            store = SqliteStore(tmp_path / "store.sqlite3", cache_mb=16)
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


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()
