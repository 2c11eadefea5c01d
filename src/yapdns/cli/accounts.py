"""``yapdns user`` and ``yapdns token``: users, roles and query tokens."""

from __future__ import annotations

import secrets
import sys

import click

from yapdns.cli.context import friendly_errors
from yapdns.core.errors import ConfigurationError


def _django() -> None:
    from yapdns.server.setup import migrate_app, setup_django

    setup_django()
    migrate_app(verbosity=0)


@click.group()
def user() -> None:
    """Manage dashboard and API users."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "analyst", "read-only"]), default="analyst", show_default=True)
@click.option("--email", default="")
@click.option("--password", help="Set this password (prefer --password-stdin; default: generate and print one).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--update", is_flag=True, help="Change an existing user's role/password instead of failing.")
@friendly_errors
def user_add(username: str, role: str, email: str, password: str | None, password_stdin: bool, update: bool) -> None:
    """Create a user with a role (admin, analyst or read-only)."""
    _django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from yapdns.server.accounts.roles import set_role
    from yapdns.server.accounts.usernames import check_username

    model = get_user_model()
    existing = model.objects.filter(username=username).first()
    if existing and not update:
        raise ConfigurationError(f"user {username!r} exists; add --update to change it")
    if existing is None:
        try:
            check_username(username)
        except ValidationError as exc:
            raise ConfigurationError(f"user name {username!r} rejected: " + " ".join(exc.messages)) from None
    generated = not password and not password_stdin
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if generated:
        password = secrets.token_urlsafe(12)
    account = existing or model(username=username, email=email)
    try:
        validate_password(password or "", account)
    except ValidationError as exc:
        raise ConfigurationError("password rejected: " + " ".join(exc.messages)) from None
    account.set_password(password)
    account.is_superuser = account.is_staff = role == "admin"
    account.save()
    set_role(account, role)  # type: ignore[arg-type]
    click.echo(f"user {username!r} {'updated' if existing else 'created'} with role {role}")
    if generated:
        click.echo(f"password: {password}")


@user.command("list")
@friendly_errors
def user_list() -> None:
    """List users and their roles."""
    _django()
    from django.contrib.auth import get_user_model

    from yapdns.server.accounts.roles import role_of

    for account in get_user_model().objects.order_by("username"):
        state = "" if account.is_active else " (disabled)"
        click.echo(f"{account.username}\t{role_of(account) or '-'}{state}")


@click.group()
def token() -> None:
    """Manage users' query tokens (for the APIs and their clients)."""


@token.command("add")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the token by.")
@click.option("--token-only", is_flag=True, help="Print only the token, e.g. for TOKEN=$(yapdns token add ...).")
@friendly_errors
def token_add(username: str, name: str, token_only: bool) -> None:
    """Create a query token for USERNAME and print it (once)."""
    _django()
    from django.contrib.auth import get_user_model

    from yapdns.server.accounts.services import create_query_token

    account = get_user_model().objects.filter(username=username).first()
    if account is None:
        raise ConfigurationError(f"no user {username!r}; create one with `yapdns user add {username}`")
    row, secret = create_query_token(account, name)
    if not token_only:
        click.echo(f"token {row.pk} for {username} (shown once, store it now):")
    click.echo(secret)


@token.command("list")
@click.argument("username")
@friendly_errors
def token_list(username: str) -> None:
    """List USERNAME's query tokens (prefixes only)."""
    _django()
    from yapdns.server.accounts.models import ApiToken

    for row in ApiToken.objects.filter(user__username=username):
        click.echo(f"{row.pk}\t{row.prefix}…\t{row.name}\t{'active' if row.active else 'revoked'}")


@token.command("revoke")
@click.argument("token_id", type=int)
@friendly_errors
def token_revoke(token_id: int) -> None:
    """Revoke query token TOKEN_ID."""
    _django()
    from yapdns.server.accounts.services import revoke_query_token

    row = revoke_query_token(token_id)
    click.echo(f"token {row.pk} ({row.prefix}…) revoked")
