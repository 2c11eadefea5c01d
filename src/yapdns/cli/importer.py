"""``yapdns import``: load files through a parser and the ingest path, with a progress bar."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, ParserOptions
from yapdns.agent.parsing import ParseRun, ParseStats
from yapdns.cli.context import friendly_errors, store_session
from yapdns.core.batch import DecodedBatch
from yapdns.core.model import Observation
from yapdns.ingest import IngestService

BATCH = 200_000


def _lines(path: Path, progress: Progress, task: object) -> Iterator[str]:
    with path.open("rb") as fh:
        for raw in fh:
            progress.advance(task, len(raw))  # type: ignore[arg-type]
            yield raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")


def _batches(observations: Iterable[Observation], size: int) -> Iterator[list[Observation]]:
    batch: list[Observation] = []
    for obs in observations:
        batch.append(obs)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-F", "--format", "fmt", required=True, help="Source format (see `yapdns formats`), e.g. cof.")
@click.option("--sensor", default="import", show_default=True, help="Sensor name the data is attributed to.")
@click.option("--timezone", help="IANA timezone for formats that log local time (e.g. Europe/Rome).")
@click.option("--year", type=int, help="Year for formats whose timestamps have none (syslog style).")
@click.option(
    "-o", "--option", "extra", multiple=True, metavar="KEY=VALUE",
    help="A format-specific option (see docs/parsers.md), e.g. -o date_order=dmy. Repeatable.",
)
@friendly_errors
def import_(
    files: tuple[Path, ...], fmt: str, sensor: str, timezone: str | None, year: int | None, extra: tuple[str, ...]
) -> None:
    """Import log or export FILES into the store.

    Lines go through the format's parser, the same validation and
    normalization as the ingest API, and the same idempotent batch write:
    importing the same file twice does not double any count (each batch id
    is derived from the file's content and position).
    """
    cls = registry.parser_class(fmt)
    options = ParserOptions(timezone=timezone, year=year, extra=_key_values(extra))
    with store_session(migrate=True) as store:
        service = IngestService(store)
        for path in files:
            stats = ParseStats()
            run = ParseRun(cls(options), stats)
            digest = _file_digest(path)
            totals = [0, 0]
            with _progress() as progress:
                task = progress.add_task(path.name, total=os.path.getsize(path))
                if isinstance(run.parser, DocumentParser):
                    observations: Iterable[Observation] = run.document(path.read_bytes())
                    progress.advance(task, os.path.getsize(path))
                else:
                    observations = run.lines(_lines(path, progress, task))
                for n, batch in enumerate(_batches(observations, BATCH)):
                    result = service.submit(sensor, DecodedBatch(f"import-{digest}-{n}", batch, []))
                    totals[0 if not result.replayed else 1] += len(batch)
            _report(path, stats, totals)


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--option")
        out[key.strip()] = value.strip()
    return out


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=12)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )


def _report(path: Path, stats: ParseStats, totals: list[int]) -> None:
    click.echo(
        f"{path}: {stats.lines:,} lines, {totals[0]:,} observations stored"
        + (f", {totals[1]:,} already imported before (skipped)" if totals[1] else "")
        + (f", {stats.error_count:,} bad lines" if stats.error_count else "")
    )
    for code, count in stats.errors.most_common():
        click.echo(f"  {code}: {count:,}")
    for sample in list(stats.samples)[:5]:
        click.echo(f"  line {sample.line_no} ({sample.code}): {sample.message}")
