"""Open the record store the configuration names.

``sqlite:`` (or an empty URL) → ``SqliteStore`` in the data directory;
``postgresql://`` → ``PostgresStore``. Backends are imported lazily, so the
PostgreSQL driver is needed only when it is used.
"""

from __future__ import annotations

from pathlib import Path

from yapdns import config
from yapdns.core.errors import ConfigurationError
from yapdns.storage.base import Store
from yapdns.storage.sqlite.rowcache import CACHE_LIMIT

SQLITE_FILE = "store.sqlite3"


def open_store(
    url: str,
    data_dir: Path,
    *,
    sqlite_cache_mb: int = 256,
    sqlite_rowid_cache: int = CACHE_LIMIT,
    replay_window: int = 7 * 86400,
) -> Store:
    """A store for ``url`` (empty = the embedded SQLite file under ``data_dir``)."""
    if not url or url.startswith("sqlite:"):
        from yapdns.storage.sqlite.store import SqliteStore

        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite:")) if url else data_dir / SQLITE_FILE
        return SqliteStore(path, cache_mb=sqlite_cache_mb, rowid_cache=sqlite_rowid_cache, replay_window=replay_window)
    if url.startswith(("postgres://", "postgresql://")):
        try:
            from yapdns.storage.postgres.store import PostgresStore  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError as exc:
            raise ConfigurationError(
                f"PostgreSQL support is not installed ({exc}); run: pip install 'yapdns[postgres]'"
            ) from exc
        return PostgresStore(url, replay_window=replay_window)  # type: ignore[no-any-return,unused-ignore]
    raise ConfigurationError(f"unsupported database URL {url!r}: use postgresql://... or leave it empty for SQLite")


def open_configured_store() -> Store:
    """The store the ``YAPDNS_*`` settings name (the server and the CLI open it the same way)."""
    return open_store(
        config.database_url(),
        config.data_dir(),
        sqlite_cache_mb=config.get_int("YAPDNS_SQLITE_CACHE_MB"),
        sqlite_rowid_cache=config.get_int("YAPDNS_SQLITE_ROWID_CACHE"),
        replay_window=config.get_int("YAPDNS_REPLAY_WINDOW"),
    )
