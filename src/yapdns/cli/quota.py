"""``yapdns quota``: per-token query quotas (every query API), and per-user quotas of dashboard sessions."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from yapdns import config
from yapdns.cli.context import friendly_errors
from yapdns.core.errors import ConfigurationError

if TYPE_CHECKING:
    from yapdns.server.compat.models import QueryQuota


def _django() -> None:
    from yapdns.server.setup import migrate_app, setup_django

    setup_django()
    migrate_app(verbosity=0)


def _burst(value: str | None) -> tuple[int, int] | None:
    return None if value is None else config.parse_rate(value, "--burst")


@click.group()
def quota() -> None:
    """Limit what a query token may ask (tokens without a quota are unlimited), or what a user may ask with a
    dashboard session (`quota user`; default: YAPDNS_SESSION_QUOTA_*)."""


@quota.command("set")
@click.argument("token_id", type=int)
@click.option("--daily", type=int, help="Queries per UTC day.")
@click.option("--block", type=int, help="Queries in total (a block quota).")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="When the quota expires (UTC).")
@click.option("--burst", help="At most QUERIES per SECONDS, e.g. 10/60.")
@click.option("--results-max", type=int, help="Lower the most rows one query may return.")
@click.option("--offset-max", type=int, help="Lower the largest offset (0 forbids offsets).")
@friendly_errors
def quota_set(
    token_id: int,
    daily: int | None,
    block: int | None,
    expires: dt.datetime | None,
    burst: str | None,
    results_max: int | None,
    offset_max: int | None,
) -> None:
    """Set (or change) the quota of query token TOKEN_ID; options not given are kept."""
    _django()
    from yapdns.server.accounts.models import ApiToken
    from yapdns.server.compat.models import QueryQuota

    if not ApiToken.objects.filter(pk=token_id).exists():
        raise ConfigurationError(f"no query token {token_id}; see `yapdns token list USER`")
    row, _ = QueryQuota.objects.get_or_create(token_id=token_id)
    changes = {"daily_limit": daily, "block_limit": block, "results_max": results_max, "offset_max": offset_max}
    for field, value in changes.items():
        if value is not None:
            setattr(row, field, value)
    if expires is not None:
        row.expires_at = expires.replace(tzinfo=dt.UTC)
    if (pair := _burst(burst)) is not None:
        row.burst_size, row.burst_window = pair
    row.save()
    click.echo(_describe(row))


@quota.command("show")
@click.argument("token_id", type=int)
@friendly_errors
def quota_show(token_id: int) -> None:
    """Show the quota of query token TOKEN_ID."""
    _django()
    from yapdns.server.compat.models import QueryQuota

    row = QueryQuota.objects.filter(token_id=token_id).first()
    click.echo(_describe(row) if row else f"token {token_id}: unlimited")


@quota.command("clear")
@click.argument("token_id", type=int)
@friendly_errors
def quota_clear(token_id: int) -> None:
    """Remove the quota of query token TOKEN_ID (it becomes unlimited)."""
    _django()
    from yapdns.server.compat.models import QueryCounter, QueryQuota

    QueryQuota.objects.filter(token_id=token_id).delete()
    QueryCounter.objects.filter(token_id=token_id).delete()
    click.echo(f"token {token_id}: unlimited")


def _describe(row: QueryQuota) -> str:
    fields = ("daily_limit", "block_limit", "expires_at", "burst_size", "burst_window", "results_max", "offset_max")
    parts = [f"{f}={getattr(row, f)}" for f in fields if getattr(row, f) is not None]
    return f"token {row.token_id}: " + (", ".join(parts) or "unlimited")


@quota.command("user")
@click.argument("username")
@click.option("--daily", type=int, help="Queries per UTC day with a dashboard session.")
@click.option("--burst", help="At most QUERIES per SECONDS with a dashboard session, e.g. 60/60.")
@click.option("--unlimited", is_flag=True, help="No session limit for this user.")
@click.option("--clear", is_flag=True, help="Back to the YAPDNS_SESSION_QUOTA_* defaults.")
@friendly_errors
def quota_user(username: str, daily: int | None, burst: str | None, unlimited: bool, clear: bool) -> None:
    """Show or set USERNAME's own limits on queries made with a dashboard session (pages and the API called
    from the browser); without options, show what applies."""
    _django()
    from django.contrib.auth import get_user_model

    from yapdns.server.compat.models import SessionCounter, SessionQuota
    from yapdns.server.limits import SessionLimits

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ConfigurationError(f"no user {username!r}; see `yapdns user list`")
    if clear:
        SessionQuota.objects.filter(user=user).delete()
        SessionCounter.objects.filter(user=user).delete()
    elif unlimited or daily is not None or burst is not None:
        row, _ = SessionQuota.objects.get_or_create(user=user)
        if unlimited:
            row.daily_limit = row.burst_size = row.burst_window = None
        if daily is not None:
            row.daily_limit = daily
        if (pair := _burst(burst)) is not None:
            row.burst_size, row.burst_window = pair
        row.save()
    limits = SessionLimits.for_user(int(user.pk))
    own = "own" if SessionQuota.objects.filter(user=user).exists() else "default"
    burst_text = f"{limits.burst_size}/{limits.burst_window}s" if limits.burst_size is not None else "none"
    daily_text = "unlimited" if limits.daily_limit is None else str(limits.daily_limit)
    click.echo(f"user {username} ({own}): daily={daily_text}, burst={burst_text}")
