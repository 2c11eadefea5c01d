"""``yapdns detection``: watchlist entries from the command line, and the detection jobs loop."""

from __future__ import annotations

import time
from pathlib import Path

import click

from yapdns.cli.accounts import _django
from yapdns.cli.context import friendly_errors, store_session

FORMATS = ("lines", "csv", "stix", "misp")


@click.group()
def detection() -> None:
    """Watchlists, alerts and their background jobs (docs/detection.md)."""


@detection.command("watch")
@click.argument("value")
@click.option("--kind", type=click.Choice(["name", "ip", "regex", "nod", "asn"]),
              help="Default: read from VALUE's form.")
@click.option("--label", default="")
@click.option("--tlp", default=None, help="white (clear), green, amber or red.")
@click.option("--expires", default=None, help="ISO 8601 date or time.")
@friendly_errors
def watch(value: str, kind: str | None, label: str, tlp: str | None, expires: str | None) -> None:
    """Add VALUE (a name, *.domain, name.*, IP/CIDR, re:REGEX or nod:SUFFIX) to the watchlist."""
    _django()
    from yapdns.server.detection import indicators, services

    try:
        if kind:
            spec = indicators.check(kind, value, label, tlp, expires)
        else:
            spec = indicators.guess(value, label, tlp, expires)
    except indicators.BadIndicator as exc:
        raise click.BadParameter(str(exc)) from None
    entry = services.add_entries([spec], None, "cli")[0]
    click.echo(f"watchlist entry {entry.pk}: {entry.kind} {entry.value}")


@detection.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="lines")
@click.option("--tlp", default=None, help="Level for indicators that carry none.")
@friendly_errors
def import_file(path: Path, fmt: str, tlp: str | None) -> None:
    """Add every indicator of a file (one a line, CSV, a STIX 2.1 bundle or a MISP event) to the watchlist."""
    _django()
    from yapdns.server.detection import indicators, services
    from yapdns.server.detection.tlp import UnknownTlp
    from yapdns.server.detection.views import read_upload

    try:
        found, skipped = read_upload(path.read_bytes(), fmt, tlp)
    except (indicators.BadIndicator, UnknownTlp) as exc:
        raise click.BadParameter(str(exc)) from None
    services.add_entries(found, None, fmt)
    for item in skipped:
        click.echo(f"skipped {item.where}: {item.reason}", err=True)
    click.echo(f"added {len(found)} entries, skipped {len(skipped)}")


@detection.command("jobs")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@click.option("--interval", type=click.IntRange(1, 3600), default=30, show_default=True, help="Seconds between rounds.")
@friendly_errors
def jobs(once: bool, interval: int) -> None:
    """Run the detection jobs (retro-hunts, NOD watch, signal rescoring, alert delivery) where no `yapdns worker` runs.

    `yapdns worker` runs them on its periodic schedule. Running this loop beside workers is safe for delivery:
    each alert delivery is claimed before it is sent, so no alert is sent twice by two runners.
    """
    _django()
    from yapdns.server.detection.jobs import run_jobs

    with store_session() as store:
        while True:
            report = run_jobs(store)
            click.echo(
                f"hunted {report.hunted} entries, {report.nod_alerts} NOD alerts, rescored {report.rescored} names, "
                f"sent {report.sent} alerts, {report.failed} failed (to retry)"
            )
            if once:
                return
            time.sleep(interval)


@detection.command("signals")
@click.argument("name")
@friendly_errors
def signals(name: str) -> None:
    """Print every detection signal of NAME now, as JSON: flux score, domain age, lexical, re-pointing."""
    _django()
    import json

    from yapdns.server.detection.signals import name_signals
    from yapdns.storage.query import NameMatch

    match = NameMatch.parse(name)
    if match.kind != "exact":
        raise click.BadParameter("give one exact name")
    with store_session() as store:
        click.echo(json.dumps(name_signals(store, match.name).as_json(), indent=2))
