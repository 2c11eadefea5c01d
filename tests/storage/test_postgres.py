"""What only the PostgreSQL backend promises: schema isolation, byte-order keys, URL handling."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import PG_URL
from tests.storage.builders import by_name, obs
from tests.storage.conftest import _drop_schema, _with_schema
from yapdns.core.errors import ConfigurationError
from yapdns.storage import migrations
from yapdns.storage.base import BatchRef, StoreUnavailable
from yapdns.storage.postgres.store import PostgresStore, split_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_schemas() -> Iterator[tuple[str, str]]:
    names = (f"yapdns_test_{uuid.uuid4().hex[:12]}", f"yapdns_test_{uuid.uuid4().hex[:12]}")
    yield names
    for name in names:
        _drop_schema(name)


def test_stores_in_two_schemas_do_not_see_each_other(two_schemas: tuple[str, str]) -> None:
    a, b = (PostgresStore(_with_schema(PG_URL, s), pool_size=2) for s in two_schemas)
    try:
        every = [f"{v:04d}_{name}" for v, name, _ in migrations.available(PostgresStore.migrations_package)]
        assert every[:3] == ["0001_initial", "0002_name_sample", "0003_zone_times"]
        assert a.migrate() == every
        assert b.migrate() == every
        a.write([obs("only-a.example", "A", "192.0.2.1")])
        assert len(a.records(by_name("only-a.example")).rows) == 1
        assert b.records(by_name("only-a.example")).rows == []
        assert b.stats().observations == 0
    finally:
        a.close()
        b.close()


def test_every_key_text_column_compares_bytes(two_schemas: tuple[str, str]) -> None:
    store = PostgresStore(_with_schema(PG_URL, two_schemas[0]), pool_size=1)
    try:
        store.migrate()
    finally:
        store.close()
    with psycopg.connect(PG_URL) as conn:
        found = conn.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = %s AND data_type = 'text' AND table_name <> 'schema_migration'",
            (two_schemas[0],),
        ).fetchall()
    assert found, "no text columns found"
    assert [(t, c) for t, c, coll in found if coll != "C"] == []


def test_schema_parameter_is_split_from_the_libpq_url() -> None:
    assert split_url("postgresql://u@h:5/db?schema=abc&connect_timeout=3") == (
        "postgresql://u@h:5/db?connect_timeout=3",
        "abc",
    )
    assert split_url("postgresql://u@h/db") == ("postgresql://u@h/db", None)
    with pytest.raises(ConfigurationError):
        split_url('postgresql://u@h/db?schema=x";drop')


def test_the_writer_reconnects_after_the_server_drops_its_connection(two_schemas: tuple[str, str]) -> None:
    app = f"yapdns-test-{uuid.uuid4().hex[:8]}"
    url = _with_schema(PG_URL, two_schemas[0]) + f"&application_name={app}"
    store = PostgresStore(url, pool_size=1)
    try:
        store.migrate()
        store.write([obs("before.example", "A", "192.0.2.1")])
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s", (app,)
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        batch = [obs("after.example", "A", "192.0.2.2")]
        # the loss is noticed by the first statement on the dead connection: that write may fail cleanly, as
        # StoreUnavailable (a retry can cure it: the API answers 503)
        with contextlib.suppress(StoreUnavailable):
            store.write(batch, BatchRef("s1", "after", 1, 0))
        store.write(batch, BatchRef("s1", "after", 1, 0))  # the client's retry: applied once
    finally:
        store.close()
    reader = PostgresStore(_with_schema(PG_URL, two_schemas[0]), pool_size=1)
    try:
        assert [r.count for r in reader.records(by_name("after.example")).rows] == [1]
        assert [r.count for r in reader.records(by_name("before.example")).rows] == [1]
    finally:
        reader.close()
