"""``yapdns stats``: what the store holds."""

from __future__ import annotations

import click
import msgspec
from rich.console import Console
from rich.table import Table

from yapdns.cli.context import friendly_errors, store_session


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def stats(as_json: bool) -> None:
    """Show record, RRset, negative and query counts, observations ingested and size on disk."""
    with store_session() as store:
        result = store.stats()
    if as_json:
        click.echo(msgspec.json.encode(result).decode())
        return
    table = Table(title=f"YAPDNS store ({result.backend})", show_header=False)
    for label, value in (
        ("records (RR)", result.records),
        ("RRsets", result.rrsets),
        ("negative answers", result.negatives),
        ("bare queries", result.queries),
        ("observations ingested", result.observations),
        ("batches applied", result.batches),
        ("size on disk", f"{(result.size_bytes or 0) / 1e6:.1f} MB"),
    ):
        table.add_row(label, f"{value:,}" if isinstance(value, int) else value)
    for rrtype, count in result.records_by_type.items():
        table.add_row(f"  {rrtype}", f"{count:,}")
    Console().print(table)
