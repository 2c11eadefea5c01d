"""Numbered SQL migrations for the record store backends.

Each backend package has a ``migrations/`` folder of ``NNNN_name.sql`` files.
They are applied in order, each once, and recorded in ``schema_migration``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

from yapdns.core.errors import StoreError

_FILE = re.compile(r"(\d{4})_(\w+)\.sql")


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


def pending(package: str, applied: set[int]) -> list[tuple[int, str, str]]:
    """The migrations not yet applied."""
    return [m for m in available(package) if m[0] not in applied]


def apply_all(package: str, applied: set[int], run: Callable[[int, str, str], None]) -> list[str]:
    """Run each pending migration through ``run(version, name, sql)``; return their names."""
    done = []
    for version, name, sql in pending(package, applied):
        run(version, name, sql)
        done.append(f"{version:04d}_{name}")
    return done
