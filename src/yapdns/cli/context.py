"""What CLI commands share: opening the configured store, printing errors the same way."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from yapdns.core.errors import YapdnsError
from yapdns.storage.base import Store
from yapdns.storage.registry import open_configured_store

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def store_session(migrate: bool = False) -> Iterator[Store]:
    """The configured store, closed afterwards (migrated first if asked)."""
    store = open_configured_store()
    try:
        if migrate:
            store.migrate()
        yield store
    finally:
        store.close()


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
