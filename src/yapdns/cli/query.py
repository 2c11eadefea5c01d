"""``yapdns query``: look records up directly in the store."""

from __future__ import annotations

import datetime as dt
import sys

import click
import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from yapdns.cli.context import friendly_errors, store_session
from yapdns.cli.timearg import TimeParam
from yapdns.core import cof
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Evidence, Record
from yapdns.core.names import to_unicode
from yapdns.core.windows import Windows
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, Page, RecordQuery, TimeFence, TypeFilter, looks_like_ip_query

UNWRAPPED_WIDTH = 1 << 20  # columns of a table written to a pipe or a file: wide enough never to wrap


def build_query(term: str, *, in_rdata: bool, **common: object) -> RecordQuery:
    """Read one search term: an IP, CIDR or range searches rdata; a name (or wildcard) searches owners."""
    if looks_like_ip_query(term):
        return RecordQuery(rdata_ip=IpRange.parse(term), **common)  # type: ignore[arg-type]
    match = NameMatch.parse(term, leading_dot_wildcard=in_rdata)
    if in_rdata:
        return RecordQuery(rdata_name=match, **common)  # type: ignore[arg-type]
    return RecordQuery(rrname=match, **common)  # type: ignore[arg-type]


@click.command()
@click.argument("terms", nargs=-1, required=True, metavar="NAME|*.DOMAIN|NAME.*|IP|CIDR|RANGE...")
@click.option("-t", "--type", "rrtype", help="RR types, e.g. A or A,AAAA or ANY-DNSSEC.")
@click.option("-n", "--rdata-name", is_flag=True, help="Search names inside rdata (CNAME/NS/MX/SRV targets).")
@click.option("--sensor", help="Only what this sensor (or its sub-sensors) saw.")
@click.option("--evidence", type=click.Choice([e.value for e in Evidence]), help="Only this kind of evidence.")
@click.option(
    "--first-after",
    type=TimeParam(),
    help="time_first on or after (epoch, -SECONDS, 7d, ISO date). Fences use traffic times, or the zone-file "
    "times of a record seen only in zone files.",
)
@click.option("--first-before", type=TimeParam(), help="time_first on or before.")
@click.option("--last-after", type=TimeParam(), help="time_last on or after.")
@click.option("--last-before", type=TimeParam(), help="time_last on or before.")
@click.option("-l", "--limit", default=100, show_default=True, help="Most records per term; 0 for all of them.")
@click.option(
    "-f", "--format", "fmt", type=click.Choice(["table", "json", "cof", "csv"]), default="table", show_default=True
)
@friendly_errors
def query(
    terms: tuple[str, ...],
    rrtype: str | None,
    rdata_name: bool,
    sensor: str | None,
    evidence: str | None,
    first_after: int | None,
    first_before: int | None,
    last_after: int | None,
    last_before: int | None,
    limit: int,
    fmt: str,
) -> None:
    """Look up names, wildcards, IPs, CIDRs or ranges.

    \b
    Examples:
      yapdns query www.example.com
      yapdns query '*.example.com' -t A,AAAA --last-after 30d
      yapdns query 192.0.2.0/24 -f csv
      yapdns query -n mail.example.com        (who points at it)
    """
    fence = TimeFence.resolve(
        first_after=first_after, first_before=first_before, last_after=last_after, last_before=last_before
    )
    if limit < 0:
        raise click.BadParameter("must be 0 (all) or more", param_hint="--limit")
    common = {
        "types": TypeFilter.parse(rrtype),
        "sensor": sensor,
        "evidence": Evidence(evidence) if evidence else None,
        "fence": fence,
        "limit": limit or sys.maxsize,
    }
    try:
        queries = [build_query(t, in_rdata=rdata_name, **common) for t in terms]
    except InvalidQuery as exc:
        raise click.BadParameter(str(exc)) from None
    with store_session() as store:
        results = [(term, _fetch(store, q, everything=not limit)) for term, q in zip(terms, queries, strict=True)]
    _print(results, fmt)
    for term, page in results:
        if page.limited:
            click.secho(
                f"limited: more records match {term!r} than the {limit:,} shown; raise --limit, or -l 0 for all",
                fg="yellow",
                err=True,
            )


def _fetch(store: Store, query: RecordQuery, *, everything: bool) -> Page[Record]:
    """One page of ``query.limit`` rows (``limited`` when more match), or every row streamed from the store."""
    return Page(list(store.iter_records(query))) if everything else store.records(query)


def _print(results: list[tuple[str, Page[Record]]], fmt: str) -> None:
    records: list[Record] = [r for _, page in results for r in page.rows]
    if fmt == "json":
        click.echo(msgspec.json.encode([cof.to_json(r) for r in records]).decode())
    elif fmt == "cof":
        click.echo(b"".join(cof.ndjson_lines(cof.to_cof(r) for r in records)), nl=False)
    elif fmt == "csv":
        click.echo("".join(cof.csv_lines(records)), nl=False)
    else:
        _table(results)


def _table(results: list[tuple[str, Page[Record]]]) -> None:
    """One table per term; ``first/last seen`` are traffic times, ``in zone files`` the zone-file window.

    On a terminal the table fits its width; piped, it is never wrapped: one record a line, for grep.
    """
    tty = sys.stdout.isatty()
    console = Console() if tty else Console(width=UNWRAPPED_WIDTH, no_color=True, highlight=False)
    for term, page in results:
        table = Table(title=term, title_justify="left")
        zones = any(rec.zone_time_first is not None for rec in page.rows)
        columns = ["rrname", "type", "rdata", "first seen (UTC)", "last seen (UTC)", "count"]
        for col in [*columns, "in zone files (UTC)"] if zones else columns:
            table.add_column(col, overflow="fold", no_wrap=not tty)
        for rec in page.rows:
            window = Windows.of(rec)
            first, last = (_when(t) for t in window.traffic) if window.traffic else ("-", "-")
            cells = [to_unicode(rec.rrname), rec.rrtype, rec.rdata, first, last, f"{rec.count:,}"]
            if zones:
                cells.append(" .. ".join(_when(t) for t in window.zone) if window.zone else "")
            table.add_row(*(Text(c) for c in cells))
        console.print(table)
        if not page.rows:
            console.print("no records")


def _when(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
