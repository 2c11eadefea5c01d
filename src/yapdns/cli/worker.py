"""``yapdns worker``: run background jobs (enrichment, scheduled jobs of every feature).

The jobs live in the application database (SQLite by default, PostgreSQL when
configured); the loop that claims and runs them is django-tasks-db's
``db_worker``; this command adds the supervisor thread (heartbeat, recovery
of jobs whose worker died, periodic schedule: ``server/workers/supervisor.py``).
Run as many workers as you like: each job runs in one of them.
"""

from __future__ import annotations

import secrets
import threading

import click

from yapdns import config
from yapdns.cli.context import friendly_errors, require_migrated


@click.command()
@click.option("--interval", default=1.0, show_default=True, help="Seconds to wait when the queue is empty.")
@click.option("--batch", is_flag=True, help="Run what is due now (after one schedule check), then exit.")
@click.option("--worker-id", default=None, help="A unique name for this worker [default: random].")
@friendly_errors
def worker(interval: float, batch: bool, worker_id: str | None) -> None:
    """Run background jobs until stopped (SIGTERM or Ctrl-C finish the running job first)."""
    from yapdns.server.setup import require_app_migrated

    require_app_migrated()  # the job queue's tables: one line saying what to run, never a traceback
    require_migrated()  # an embedded record store, which the jobs read and write
    from django.core.management import call_command

    from yapdns.server.workers.supervisor import Supervisor

    wid = worker_id or secrets.token_hex(16)
    supervisor = Supervisor(
        wid, heartbeat=config.get_int("YAPDNS_WORKER_HEARTBEAT"), lease=config.get_int("YAPDNS_WORKER_LEASE")
    )
    supervisor.tick()  # beat before the first claim, recover, schedule what is due
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,), name="worker-supervisor", daemon=True)
    thread.start()
    click.echo(f"worker {wid} started", err=True)
    try:
        call_command(
            "db_worker", queue_name="*", interval=interval, batch=batch, worker_id=wid,
            startup_delay=False, reload=False, verbosity=1,
        )
    finally:
        stop.set()
        thread.join(timeout=10)
        supervisor.retire()
