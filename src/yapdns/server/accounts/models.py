"""Query tokens of users (stored hashed; see ``server/tokens.py``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yapdns.server.hashed_token import HashedToken


class ApiToken(HashedToken):
    """A user's bearer token for the query APIs (own, DNSDB, CIRCL)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
