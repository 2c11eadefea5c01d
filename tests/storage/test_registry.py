"""storage.registry: a URL's scheme picks the backend, from one map; a scheme no backend serves is refused."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.storage.conftest import _drop_schema, _with_schema
from yapdns.core.errors import ConfigurationError
from yapdns.storage.registry import BACKENDS, SQLITE_FILE, StoreOptions, open_store, url_scheme


def test_every_documented_scheme_has_a_backend_and_no_other() -> None:
    assert set(BACKENDS) == {"sqlite", "postgresql", "postgres", "clickhouse", "chdb"}
    storage_doc = (Path(__file__).parents[2] / "docs" / "storage.md").read_text()
    assert all(f"`{scheme}:" in storage_doc for scheme in ("sqlite", "postgresql", "clickhouse", "chdb"))


def test_the_empty_url_is_the_embedded_sqlite_file(tmp_path: Path) -> None:
    store = open_store("", StoreOptions(data_dir=tmp_path))
    try:
        assert store.name == "sqlite" and store.path == tmp_path / SQLITE_FILE  # type: ignore[attr-defined]
        assert store.migrate() and (tmp_path / SQLITE_FILE).exists()
    finally:
        store.close()


def test_a_sqlite_url_names_its_file(tmp_path: Path) -> None:
    store = open_store(f"SQLite:///{tmp_path / 'elsewhere.db'}", StoreOptions(data_dir=tmp_path / "unused"))
    try:
        store.migrate()
        assert (tmp_path / "elsewhere.db").exists() and not (tmp_path / "unused" / SQLITE_FILE).exists()
    finally:
        store.close()


@pytest.mark.clickhouse
def test_a_clickhouse_url_opens_the_clickhouse_backend(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from tests.storage.conftest import clickhouse_url, drop_clickhouse_database

    url = clickhouse_url(request, "clickhouse", f"yapdns_test_{uuid.uuid4().hex[:12]}")
    store = open_store(url, StoreOptions(data_dir=tmp_path))
    try:
        assert store.name == "clickhouse" and store.migrate()[:1] == ["0001_initial"]
    finally:
        store.close()
        drop_clickhouse_database(url)


@pytest.mark.postgres
def test_a_postgresql_url_opens_the_postgresql_backend(tmp_path: Path) -> None:
    schema = f"yapdns_test_{uuid.uuid4().hex[:12]}"
    for url in (PG_URL, PG_URL.replace("postgresql://", "postgres://", 1)):
        store = open_store(_with_schema(url, schema), StoreOptions(data_dir=tmp_path, replay_window=60))
        try:
            assert store.name == "postgresql" and store.migrate() is not None
        finally:
            store.close()
    _drop_schema(schema)


@pytest.mark.parametrize("url", ["mysql://root:secret@db/pdns", "cassandra://ch:9042/pdns", "/var/lib/store.db"])
def test_a_scheme_no_backend_serves_is_refused_without_echoing_the_url(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        open_store(url, StoreOptions(data_dir=tmp_path))
    assert url_scheme(url) in str(err.value) and "postgresql:" in str(err.value)
    assert "secret" not in str(err.value)
