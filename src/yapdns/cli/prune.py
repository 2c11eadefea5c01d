"""``yapdns prune``: apply the retention policy (``YAPDNS_RETENTION_*``) to the record store now."""

from __future__ import annotations

import click

from yapdns.cli.context import friendly_errors, store_session
from yapdns.storage.prune import Prunable, RetentionPolicy


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would go, remove nothing.")
@click.option("--days", type=click.IntRange(min=0), help="Keep records seen within this many days "
              "[default: YAPDNS_RETENTION_DAYS; 0: for ever].")
@click.option("--negative-days", type=click.IntRange(min=0), help="The same for negative answers and bare queries "
              "[default: YAPDNS_RETENTION_NEGATIVE_DAYS, else --days].")
@click.option("--sample-days", type=click.IntRange(min=0), help="The same for records linked to a sandbox sample "
              "[default: YAPDNS_RETENTION_SAMPLE_DAYS, else --days; 0: for ever].")
@click.option("--rule", "rules", multiple=True, metavar="KIND:VALUE=DAYS",
              help="An own age per RR type, sensor or evidence kind, e.g. type:TXT=7, sensor:lab=3 (repeatable; "
              "replaces YAPDNS_RETENTION_RULES).")
@friendly_errors
def prune(dry_run: bool, days: int | None, negative_days: int | None, sample_days: int | None,
          rules: tuple[str, ...]) -> None:
    """Remove records whose last sighting is older than the retention policy, in small chunks.

    Safe while the server ingests: each chunk is one short transaction, and a
    record seen within the window is never touched.
    """
    policy = RetentionPolicy.configured(days, negative_days, sample_days, rules or None)
    if not policy.active:
        click.echo("retention is off (YAPDNS_RETENTION_DAYS=0, no rules): nothing to prune")
        return
    with store_session() as store:
        if not isinstance(store, Prunable):
            raise click.ClickException(f"the {store.name} store does not prune")
        report = store.prune(policy, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb}: {report.records} records, {report.rrsets} RRsets, {report.negatives} negative answers, "
               f"{report.queries} bare queries, {report.name_samples} name-sample links")
    for label, count in report.by_rule.items():
        click.echo(f"  rule {label}: applies to {count} of them")
