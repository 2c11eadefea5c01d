"""The ``yapdns`` command. Each subcommand lives in its own module and is registered here."""

from __future__ import annotations

import click

from yapdns import __version__
from yapdns.cli import (
    accounts,
    agent,
    backup,
    check,
    detection,
    formats,
    importer,
    migrate,
    prune,
    query,
    quota,
    sensors,
    serve,
    stats,
    store,
    upstream,
    worker,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="yapdns")
def main() -> None:
    """YAPDNS: passive DNS from your logs, sensors and sandboxes.

    Configuration comes from YAPDNS_* environment variables; see
    docs/configuration.md. Without YAPDNS_DATABASE_URL, everything lives in
    SQLite files under YAPDNS_DATA_DIR (default ./data).
    """


for _command in (
    serve.serve,
    migrate.migrate,
    check.check,
    accounts.user,
    accounts.token,
    quota.quota,
    sensors.sensor,
    importer.import_,
    formats.formats,
    query.query,
    stats.stats,
    agent.agent,
    backup.backup,
    backup.restore,
    prune.prune,
    store.store,
    worker.worker,
    detection.detection,
    upstream.fetch_upstream,
):
    main.add_command(_command)
