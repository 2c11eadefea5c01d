"""Creating and revoking users' query tokens: shared by the CLI, the API and the dashboard.

A token is shown once, when it is made; only its digest is stored (``server/tokens.py``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from yapdns.core.errors import ConfigurationError
from yapdns.server import tokens
from yapdns.server.accounts.models import ApiToken


def create_query_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new query token for ``user`` (returned once)."""
    new = tokens.generate("query")
    row = ApiToken.objects.create(user=user, name=name[:100] or "token", prefix=new.prefix, digest=new.digest)
    return row, new.token


def revoke_query_token(token_id: int, user: User | None = None) -> ApiToken:
    """Revoke one query token (only the owner's, when ``user`` is given)."""
    found = ApiToken.objects.filter(pk=token_id)
    if user is not None:
        found = found.filter(user=user)
    row = found.first()
    if row is None:
        raise ConfigurationError(f"no token with id {token_id}")
    row.revoked_at = row.revoked_at or timezone.now()
    row.save(update_fields=["revoked_at"])
    return row
