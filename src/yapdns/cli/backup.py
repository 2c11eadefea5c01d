"""``yapdns backup DEST`` and ``yapdns restore SRC``: the embedded SQLite default, online and whole.

A backup is a directory (mode 0700) holding a consistent copy of the record
store (``store.sqlite3``) and of the server's application database
(``app.sqlite3``: users, sensors, tokens, quotas) made with SQLite's online
backup API, so ingest and queries go on meanwhile and each copy is one
committed state (a batch is in it whole or not at all); the generated
secret key (``secret_key``), and ``manifest.json`` with each file's SHA-256.
``restore`` checks every digest and SQLite's integrity check before it
replaces anything, and refuses to overwrite data unless told to. With
PostgreSQL, use ``pg_dump``/``pg_restore`` (docs/operations.md, "Backups").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import click

from yapdns import __version__, config
from yapdns.cli.context import friendly_errors
from yapdns.core.errors import ConfigurationError
from yapdns.storage.registry import SQLITE_FILE

DATABASES = (SQLITE_FILE, "app.sqlite3")
KEY_FILE = "secret_key"
MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_file(path: Path) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)


def copy_database(source: Path, target: Path) -> None:
    """One consistent copy of a live SQLite database (online backup API, in one step: one committed state)."""
    _private_file(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _check(path: Path) -> None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (result,) = conn.execute("PRAGMA integrity_check").fetchone()
    if result != "ok":
        raise ConfigurationError(f"{path.name} fails SQLite's integrity check: {result}")


def _embedded_only(action: str) -> Path:
    if config.database_url():
        raise ConfigurationError(
            f"yapdns {action} covers the embedded SQLite default; with PostgreSQL use pg_dump and pg_restore "
            "(docs/operations.md, Backups)"
        )
    return config.data_dir()


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def backup(dest: Path) -> None:
    """Copy the SQLite databases and the secret key into the new directory DEST, while the server runs."""
    data = _embedded_only("backup")
    if dest.exists() and any(dest.iterdir()):
        raise ConfigurationError(f"{dest} is not empty: back up into a new directory")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    dest.chmod(0o700)
    files: dict[str, str] = {}
    for name in DATABASES:
        if (data / name).is_file():
            copy_database(data / name, dest / name)
            _check(dest / name)
            files[name] = _sha256(dest / name)
    if not config.get("YAPDNS_SECRET_KEY") and (data / KEY_FILE).is_file():
        _private_file(dest / KEY_FILE)
        shutil.copyfile(data / KEY_FILE, dest / KEY_FILE)
        files[KEY_FILE] = _sha256(dest / KEY_FILE)
    if SQLITE_FILE not in files:
        raise ConfigurationError(f"no record store in {data} (YAPDNS_DATA_DIR)")
    manifest = {"format": 1, "yapdns": __version__, "created": int(time.time()), "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    click.echo(f"backed up {', '.join(files)} to {dest}")


@click.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data that is there (stop the server first).")
@friendly_errors
def restore(src: Path, force: bool) -> None:
    """Put a backup made by `yapdns backup` back into the data directory (the server must be stopped)."""
    data = _embedded_only("restore")
    try:
        files: dict[str, str] = json.loads((src / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError):
        raise ConfigurationError(f"{src} is not a yapdns backup (no readable {MANIFEST})") from None
    for name, digest in files.items():
        if name not in (*DATABASES, KEY_FILE) or _sha256(src / name) != digest:
            raise ConfigurationError(f"{src / name} does not match the manifest: the backup is damaged")
        if name != KEY_FILE:
            _check(src / name)
    present = [n for n in files if (data / n).exists()]
    if present and not force:
        raise ConfigurationError(f"{data} already holds {', '.join(present)}: stop the server and use --force")
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in files:
        staged = data / f".{name}.restore"
        _private_file(staged)
        shutil.copyfile(src / name, staged)
        for leftover in (f"{name}-wal", f"{name}-shm"):
            (data / leftover).unlink(missing_ok=True)
        os.replace(staged, data / name)
    click.echo(f"restored {', '.join(files)} into {data}")
