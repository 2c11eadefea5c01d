"""``yapdns import``: load files through a parser and the ingest path, with a progress bar.

Batch ids are ``import-<key>-<start>-<end>``: ``key`` is a digest of the
file's content, the format and its options; ``start``/``end`` are the byte
offsets of the lines whose observations fill the batch (a parser that holds
a line across a batch boundary moves its observation to the next batch, the
same way every time). A document (a STIX bundle, a sandbox report) is read
at once: its first batch covers ``0-<size>``, every later one ``<size>-<size>``,
so from the third on each id ends with the batch's number (``-2``, ``-3``...).
Importing the same file again (any path, same content, format and options,
same ``--sensor``) is therefore recognised by the store as a replay and
changes nothing, within the server's replay window. Nothing
recognises lines an agent (or a sandbox module) already delivered: their
batch ids are their own.

Watchlist matching (``YAPDNS_WATCHLIST_MATCHING``) runs on each batch after
it commits, through the ingest API's hook (``server/detection/live.py``),
replays included: an import stopped between a commit and its match is made
good by running it again, which stores nothing twice and matches again
(alerts fold repeats). A batch whose matching failed makes the command exit
with status 1 and say so, for the same reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from yapdns import config
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, ParserOptions
from yapdns.agent.parsing import ParseRun, ParseStats
from yapdns.cli.context import friendly_errors, store_session
from yapdns.core.batch import DecodedBatch
from yapdns.core.errors import YapdnsError
from yapdns.core.importkey import batch_id, import_key
from yapdns.core.model import Observation
from yapdns.ingest import AfterCommit, IngestService
from yapdns.storage.base import Store

BATCH = 200_000


class Batch(NamedTuple):
    start: int  # byte offset of the first line that filled it
    end: int  # byte offset after the last one
    observations: list[Observation]


class _Reader:
    """The lines of a file, counting the bytes handed out (``offset``)."""

    def __init__(self, path: Path, progress: Progress, task: object) -> None:
        self.path, self.progress, self.task = path, progress, task
        self.offset = 0

    def lines(self) -> Iterator[str]:
        with self.path.open("rb") as fh:
            for raw in fh:
                self.offset += len(raw)
                self.progress.advance(self.task, len(raw))  # type: ignore[arg-type]
                yield raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")


def _batches(observations: Iterable[Observation], size: int, reader: _Reader) -> Iterator[Batch]:
    """Batches of ``size`` observations, each with the offsets of the lines that filled it."""
    batch: list[Observation] = []
    start = 0
    for obs in observations:
        batch.append(obs)
        if len(batch) >= size:
            yield Batch(start, reader.offset, batch)
            start, batch = reader.offset, []
    if batch:
        yield Batch(start, reader.offset, batch)


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
    normalization as the ingest API, and the same idempotent batch write.

    What is deduplicated: importing the same file again (same content, under
    any name, same format, options and --sensor) changes nothing, within the
    server's YAPDNS_REPLAY_WINDOW (7 days by default). Each batch id is
    derived from the file's content, the format and options, and the byte
    offsets the batch covers.

    What is not: lines an agent (or a sandbox module) already delivered are
    counted again; a file that grew or changed since an import is a new file
    and counts again whole; other options or another --sensor count again. To
    load a growing log piece by piece, use `yapdns agent --once --data DIR`,
    which keeps read positions.
    """
    cls = registry.parser_class(fmt)
    options = ParserOptions(timezone=timezone, year=year, extra=_key_values(extra))
    hooks, failures = _match_hooks()
    with store_session(migrate=True) as store:
        service = IngestService(store, hooks)
        for path in files:
            stats = ParseStats()
            totals = _import_file(service, path, fmt, ParseRun(cls(options), stats), sensor)
            _report(path, stats, totals)
        _fold_matches(hooks, store)
    failed = failures()
    if failed:
        raise MatchingFailed(
            f"watchlist matching failed for {failed} batch(es) (logged); the data is stored: run the same import "
            "again to match them (it stores nothing twice)"
        )


class MatchingFailed(YapdnsError):
    """Batches were stored but not matched against the watchlist."""


def _match_hooks() -> tuple[tuple[AfterCommit, ...], Callable[[], int]]:
    """The ingest API's after-commit hooks, and a count of their failures since this call."""
    if not config.get_bool("YAPDNS_WATCHLIST_MATCHING"):
        return (), lambda: 0
    from yapdns.server.setup import migrate_app

    migrate_app(verbosity=0)
    from yapdns.server.detection.live import MatchStats, ingest_hooks

    before = MatchStats.failures
    return ingest_hooks(), lambda: MatchStats.failures - before


def _fold_matches(hooks: tuple[AfterCommit, ...], store: Store) -> None:
    """Fold the matches this import kept into alerts now (when that fails they stay kept: a worker folds them)."""
    if not hooks:
        return
    from yapdns.server.detection.services import fold_pending

    try:
        fold_pending(store)
    except Exception as exc:
        click.secho(f"warning: watchlist matches kept, not folded into alerts yet ({exc})", fg="yellow", err=True)


def _import_file(service: IngestService, path: Path, fmt: str, run: ParseRun, sensor: str) -> list[int]:
    """Parse and submit one file; ``[observations stored, observations already imported before]``."""
    key = _import_key(path, fmt, run.parser.options)
    totals = [0, 0]
    with _progress() as progress:
        size = os.path.getsize(path)
        reader = _Reader(path, progress, progress.add_task(path.name, total=size))
        if isinstance(run.parser, DocumentParser):
            observations: Iterable[Observation] = run.document(path.read_bytes())
            progress.advance(reader.task, size)  # type: ignore[arg-type]
            reader.offset = size
        else:
            observations = run.lines(reader.lines())
        for n, batch in enumerate(_batches(observations, BATCH, reader)):
            ident = batch_id(key, batch.start, batch.end)
            if n >= 2 and batch.start == batch.end:  # a document's third batch on covers the same bytes as its second
                ident += f"-{n}"
            result = service.submit(sensor, DecodedBatch(ident, batch.observations, []))
            totals[0 if not result.replayed else 1] += len(batch.observations)
    return totals


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--option")
        out[key.strip()] = value.strip()
    return out


def _import_key(path: Path, fmt: str, options: ParserOptions) -> str:
    """What makes two imports the same: the file's content, the format and the parser options."""
    with path.open("rb") as fh:
        return import_key(fmt, options, iter(lambda: fh.read(1 << 20), b""))


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
