"""``yapdns serve``: the production server (gunicorn, threaded workers, optional TLS)."""

from __future__ import annotations

import os

import click

from yapdns import config
from yapdns.cli.context import friendly_errors
from yapdns.core.private import exposed


@click.command()
@click.option(
    "--host",
    default=lambda: config.get("YAPDNS_LISTEN_HOST"),
    show_default="YAPDNS_LISTEN_HOST, 127.0.0.1",
    help="Address to listen on (0.0.0.0 for all); the server answers to it, localhost and YAPDNS_ALLOWED_HOSTS.",
)
@click.option("--port", default=8000, show_default=True, help="TCP port.")
@click.option(
    "--workers", type=int, help="Worker processes [default: 1 with SQLite (one writer), 2 x CPUs with PostgreSQL]."
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    help="Threads per worker (each holds a SQLite cache; docs/performance.md).",
)
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM): serve HTTPS.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Apply migrations before starting.")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log each request.")
@friendly_errors
def serve(
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    certfile: str | None,
    keyfile: str | None,
    migrate: bool,
    access_log: bool,
) -> None:
    """Serve the API and dashboard with gunicorn.

    With the embedded SQLite store, one worker process with threads keeps a
    single writer; with PostgreSQL, several workers share the load. Give
    --certfile and --keyfile to serve HTTPS (secure cookies and HSTS follow).
    """
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together")
    from yapdns.server.monitoring.multiproc import prepare_multiprocess, remove_own

    metrics_dir, master = prepare_multiprocess(), os.getpid()  # before prometheus_client is imported anywhere
    os.environ["YAPDNS_LISTEN_HOST"] = host  # the worker's ALLOWED_HOSTS (config.allowed_hosts)
    if certfile and config.get("YAPDNS_TLS").strip().lower() == "auto":
        os.environ["YAPDNS_TLS"] = "true"
    if migrate:
        from yapdns.cli.migrate import migrate as migrate_command

        migrate_command.callback(store_only=False)  # type: ignore[misc]
    for item in exposed(config.data_dir(), config.DATA_FILES):
        click.secho(f"warning: readable by group or others: {item}; see `yapdns check --deploy`", fg="yellow", err=True)
    from yapdns.server.gunicorn_app import YapdnsServer, server_hooks

    sqlite = not config.database_url()
    json_logs = config.get("YAPDNS_LOG_FORMAT").strip().lower() == "json"
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or (1 if sqlite else 2 * (os.cpu_count() or 1)),
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 300,
        "graceful_timeout": 30,
        "certfile": certfile,
        "keyfile": keyfile,
        "accesslog": "-" if access_log and not json_logs else None,  # JSON: the app logs each request
        "errorlog": "-",
        "proc_name": "yapdns",
        "forwarded_allow_ips": "127.0.0.1,::1",
        "control_socket_disable": True,
        **server_hooks(config.get("YAPDNS_METRICS_LISTEN").strip(), json_logs),
    }
    scheme = "https" if certfile else "http"
    click.echo(f"YAPDNS serving on {scheme}://{host}:{port}/ (data: {config.data_dir()})")
    try:
        YapdnsServer(options).run()
    finally:  # gunicorn's forked workers leave through here too: only the master removes the directory
        if os.getpid() == master:
            remove_own(metrics_dir)
