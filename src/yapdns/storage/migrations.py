"""Numbered migrations for the record store backends.

Each backend package has a ``migrations/`` folder of ``NNNN_name.sql`` files.
They are applied in order, each once, in its own transaction, and recorded
in ``schema_migration``. A migration that needs values only Python computes
(re-normalized rdata) also has a step in ``STEPS``, under its name: the
backend runs it after the file's SQL, in the same transaction, through a
``MigrationDb`` (the backend's connection with ``?`` placeholders), so one
piece of Python serves every backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, Protocol

from yapdns.core.errors import StoreError
from yapdns.storage.unbroken_rdata import rewrite_unbroken_rdata

_FILE = re.compile(r"(\d{4})_(\w+)\.sql")


class MigrationDb(Protocol):
    """What a Python step may do: run statements with ``?`` placeholders inside the migration's transaction."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a SELECT and return its rows."""
        ...

    def run(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement."""
        ...


class ConnectionDb:
    """``MigrationDb`` over a DB-API connection (sqlite3 or psycopg) and the backend's placeholder."""

    def __init__(self, conn: Any, placeholder: str) -> None:
        self._conn = conn
        self._ph = placeholder

    @property
    def connection(self) -> Any:
        """The DB-API connection (the rollup journal's drain works on it, inside the same transaction)."""
        return self._conn

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql.replace("?", self._ph), tuple(params)).fetchall())

    def run(self, sql: str, params: Sequence[object] = ()) -> None:
        self._conn.execute(sql.replace("?", self._ph), tuple(params))


STEPS: dict[str, Callable[[MigrationDb], None]] = {"unbroken_rdata": rewrite_unbroken_rdata}


def available(package: str) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of every migration shipped in ``package.migrations``."""
    found = []
    for entry in resources.files(f"{package}.migrations").iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise StoreError(f"duplicate migration numbers in {package}")
    return sorted(found)


def pending(package: str, applied: set[int], through: int | None = None) -> list[tuple[int, str, str]]:
    """The migrations not yet applied (up to version ``through``, when given)."""
    return [m for m in available(package) if m[0] not in applied and (through is None or m[0] <= through)]


def pending_names(package: str, applied: set[int]) -> list[str]:
    """``NNNN_name`` of each migration not yet applied, in order."""
    return [f"{v:04d}_{name}" for v, name, _ in pending(package, applied)]


def pending_problem(package: str, applied: set[int]) -> list[str]:
    """A readiness problem naming the pending migrations, or none."""
    todo = pending_names(package, applied)
    return [f"record store migrations pending: {', '.join(todo)} (run `yapdns migrate`)"] if todo else []


def apply_all(
    package: str, applied: set[int], run: Callable[[int, str, str], None], through: int | None = None
) -> list[str]:
    """Run each pending migration through ``run(version, name, sql)``; return their names."""
    done = []
    for version, name, sql in pending(package, applied, through):
        run(version, name, sql)
        done.append(f"{version:04d}_{name}")
    return done
