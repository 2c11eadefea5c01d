"""``yapdns formats``: every source format the agent and ``yapdns import`` read."""

from __future__ import annotations

import click

from yapdns.agent.parsers import registry
from yapdns.cli.context import friendly_errors


@click.command()
@friendly_errors
def formats() -> None:
    """List the source formats, one a line: name, evidence kind, what it reads.

    \b
    The evidence kind is what the format's records say:
      direct    a DNS answer seen on the wire or logged by the DNS server
      indirect  a name-to-address pairing seen by something else (proxy, sandbox, Sysmon)
      imported  another passive DNS database's export
    Use the name with `yapdns import -F NAME` or an agent input's `format:`;
    docs/parsers.md has each format's options.
    """
    for name in registry.available():
        cls = registry.parser_class(name)
        click.echo(f"{name:<15} {cls.evidence.value:<9} {cls.description}")
