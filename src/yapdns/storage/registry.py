"""Open the record store a URL names: one map from URL scheme to backend.

``BACKENDS`` maps each scheme to the function that opens its backend; a
new backend is one entry there (its module stays unimported until a URL
names it, so the PostgreSQL driver is needed only when it is used):

* empty, or ``sqlite:`` → ``SqliteStore`` (the empty URL: ``store.sqlite3``
  in the data directory; ``sqlite:///relative.db``, ``sqlite:////abs.db``);
* ``postgresql://`` or ``postgres://`` → ``PostgresStore``.

``open_store`` knows nothing of where the URL comes from;
``open_configured_store`` reads it from the ``YAPDNS_*`` settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import msgspec

from yapdns import config
from yapdns.core.errors import ConfigurationError
from yapdns.storage.base import Store

SQLITE_FILE = "store.sqlite3"


class StoreOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What opening a store needs besides its URL; each backend takes the options that apply to it."""

    data_dir: Path  # where the embedded SQLite file lives when the URL is empty
    sqlite_cache_mb: int = 32  # MiB per connection: the server's memory budget, docs/performance.md
    sqlite_rowid_cache: int = 200_000  # ~86 MB; CACHE_LIMIT is the writer's own ceiling
    replay_window: int = 7 * 86400  # seconds a batch id is remembered (every backend)


def sqlite_path(url: str, data_dir: Path) -> Path | None:
    """The file of an SQLite store URL (the empty URL: ``store.sqlite3`` in ``data_dir``); None for other schemes."""
    if url_scheme(url) != "sqlite":
        return None
    rest = url.partition(":")[2]  # sqlite:///relative.db, sqlite:////absolute.db, sqlite:file.db
    return Path(rest.removeprefix("///")) if url else data_dir / SQLITE_FILE


def _open_sqlite(url: str, options: StoreOptions) -> Store:
    from yapdns.storage.sqlite.store import SqliteStore

    path = sqlite_path(url, options.data_dir)
    assert path is not None
    return SqliteStore(
        path,
        cache_mb=options.sqlite_cache_mb,
        rowid_cache=options.sqlite_rowid_cache,
        replay_window=options.replay_window,
    )


def _open_postgres(url: str, options: StoreOptions) -> Store:
    try:
        from yapdns.storage.postgres.store import PostgresStore  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigurationError(
            f"PostgreSQL support is not installed ({exc}); run: pip install 'yapdns[postgres]'"
        ) from exc
    return PostgresStore(url, replay_window=options.replay_window)  # type: ignore[no-any-return,unused-ignore]


BACKENDS: Mapping[str, Callable[[str, StoreOptions], Store]] = MappingProxyType(
    {"sqlite": _open_sqlite, "postgresql": _open_postgres, "postgres": _open_postgres}
)
"""URL scheme → the function that opens that backend's store."""


def url_scheme(url: str) -> str:
    """The scheme of a store URL, lowercased; ``sqlite`` for the empty URL (the embedded default)."""
    return url.partition(":")[0].lower() if url else "sqlite"


def open_store(url: str, options: StoreOptions) -> Store:
    """The store ``url`` names (empty: the embedded SQLite file under ``options.data_dir``)."""
    opener = BACKENDS.get(url_scheme(url))
    if opener is None:
        schemes = ", ".join(f"{s}:" for s in sorted(BACKENDS))
        raise ConfigurationError(
            f"unsupported database URL scheme {url_scheme(url)!r}: use one of {schemes} or leave it empty for SQLite"
        )
    return opener(url, options)


def open_configured_store() -> Store:
    """The store the ``YAPDNS_*`` settings name (the server and the CLI open it the same way)."""
    options = StoreOptions(
        data_dir=config.data_dir(),
        sqlite_cache_mb=config.get_int("YAPDNS_SQLITE_CACHE_MB"),
        sqlite_rowid_cache=config.get_int("YAPDNS_SQLITE_ROWID_CACHE"),
        replay_window=config.get_int("YAPDNS_REPLAY_WINDOW"),
    )
    return open_store(config.database_url(), options)
