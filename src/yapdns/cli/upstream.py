"""``yapdns fetch-upstream NAME``: ask the configured upstream pDNS services about a name or an address."""

from __future__ import annotations

import click

from yapdns.cli.context import friendly_errors


@click.command("fetch-upstream")
@click.argument("query")
@click.option("--connector", "-c", multiple=True, help="dnsdb, circl or virustotal [default: every configured one].")
@friendly_errors
def fetch_upstream(query: str, connector: tuple[str, ...]) -> None:
    """Ask upstream services about QUERY (an exact name or an address) and store the answers as imported
    evidence. Answers are reused within YAPDNS_UPSTREAM_CACHE_SECONDS; each connector's daily quota holds."""
    from yapdns.server.setup import setup_django

    setup_django()
    from yapdns.server.enrichment import upstream
    from yapdns.upstream import registry
    from yapdns.upstream.base import UpstreamError

    names = connector or tuple(registry.configured())
    if not names:
        raise click.ClickException("no upstream connector is configured (docs/enrichment.md)")
    failed = False
    for name in names:
        try:
            r = upstream.ask(name, query, by="cli")
        except UpstreamError as exc:
            click.secho(f"{name}: {exc}", fg="red", err=True)
            failed = True
            continue
        how = "cached answer" if r.cached else "asked"
        click.echo(f"{name}: {how} at {r.asked_at:%Y-%m-%d %H:%M} UTC: {r.accepted} stored, {r.unreadable} unreadable; "
                   f"quota {r.quota_used}/{r.quota_limit} in 24 h")
    if failed:
        raise SystemExit(1)
