"""What CLI commands share: opening the configured store, printing errors the same way."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import quote

import click

from yapdns import config
from yapdns.core.errors import ConfigurationError, YapdnsError
from yapdns.storage.base import Store
from yapdns.storage.registry import open_configured_store, sqlite_path

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def store_session(migrate: bool = False, creates: bool = False) -> Iterator[Store]:
    """The configured store, closed afterwards: migrated first if asked; unless the caller ``creates`` the
    schema, an SQLite store that was never migrated is refused (and nothing is created)."""
    if not (migrate or creates):
        require_migrated()
    store = open_configured_store()
    try:
        if migrate:
            store.migrate()
        yield store
    finally:
        store.close()


def require_migrated() -> None:
    """Refuse, with what to do, an embedded store that does not exist or has no tables yet."""
    data_dir = Path(config.get("YAPDNS_DATA_DIR")).expanduser().resolve()
    path = sqlite_path(config.database_url(), data_dir)
    if path is None:
        return
    if path.is_file() and path.stat().st_size:
        uri = f"file:{quote(str(path))}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migration'").fetchone():
                return
    raise ConfigurationError(
        f"no record store at {path} yet: run `yapdns migrate` first (`yapdns import` and `yapdns serve` migrate too)"
    )


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn YAPDNS errors into one red line and exit status 1 instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except YapdnsError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)

    return wrapper
