"""``yapdns store copy``: copy a SQLite or PostgreSQL record store into ClickHouse (``storage/clickhouse/copy.py``)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from yapdns import config
from yapdns.cli.context import friendly_errors
from yapdns.storage.base import Store
from yapdns.storage.registry import StoreOptions, open_store, url_scheme


@click.group()
def store() -> None:
    """Operations on record stores named by URL."""


@store.command("copy")
@click.option("--from", "source_url", required=True, help="The SQL store to read: sqlite:///file or postgresql://...")
@click.option("--to", "target_url", required=True, help="The ClickHouse store to fill: clickhouse://... or chdb:///dir")
@click.option("--chunk", type=click.IntRange(min=1), default=20_000, show_default=True,
              help="Source rows per chunk (one exactly-once batch). Rerun with the same value to resume.")
@click.option("--restart-detection", is_flag=True, help="Then point the NOD watch and flux rescoring cursors "
              "(YAPDNS_DATABASE_URL) at the target's end: do it when the server switches to the target.")
@friendly_errors
def copy_store(source_url: str, target_url: str, chunk: int, restart_detection: bool) -> None:
    """Copy every record, RRset, negative answer, bare query, sample link, applied batch id, hourly counter and
    address context row of a SQL store into a ClickHouse store, in chunks, then compare both.

    Each chunk is applied exactly once: rerun the same command to finish a copy that stopped, or to check one
    that finished (nothing is applied twice). Stop ingest into the source first.
    """
    from yapdns.storage.clickhouse import copy

    if url_scheme(source_url) not in ("sqlite", "postgresql", "postgres") or not source_url:
        raise click.BadParameter("the source must be a sqlite: or postgresql: URL", param_hint="--from")
    if url_scheme(target_url) not in ("clickhouse", "chdb"):
        raise click.BadParameter("the target must be a clickhouse: or chdb: URL", param_hint="--to")
    options = StoreOptions(data_dir=Path(config.get("YAPDNS_DATA_DIR")))
    source, target = open_store(source_url, options), open_store(target_url, options)
    try:
        target.migrate()
        chunks = copy.plan(source, chunk)  # type: ignore[arg-type]
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn()) as progress:  # fmt: skip
            task = progress.add_task("copy", total=len(chunks))

            def advance(done: copy.Chunk) -> None:
                progress.update(task, advance=1, description=f"{done.table} {done.number + 1}")

            report = copy.copy(source, target, chunk, advance)  # type: ignore[arg-type]
        click.echo(f"chunks applied: {report.applied}, already applied before: {report.skipped}, "
                   f"address context rows kept: {report.context_rows}")  # fmt: skip
        verdict = copy.verify(source, target)  # type: ignore[arg-type]
        if restart_detection and verdict.same:
            _restart_detection(target)
    finally:
        source.close()
        target.close()
    for key, value in verdict.source.items():
        mark = "" if verdict.target[key] == value else "   <- differs"
        click.echo(f"{key}: {value} | {verdict.target[key]}{mark}")
    if not verdict.same:
        raise click.ClickException("the stores differ (source | target above)")
    click.echo("verified: both stores hold the same records, RRsets, negatives, bare queries and totals")


def _restart_detection(target: Store) -> None:
    from yapdns.cli.accounts import _django

    _django()
    from yapdns.server.detection.jobs import restart_cursors

    click.echo(f"detection cursors restarted at the target's end ({restart_cursors(target)})")
