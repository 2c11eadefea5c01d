"""The one rule for user names, applied by ``yapdns user add`` and the dashboard's user form alike.

A name is 1 to 150 characters of letters, digits and ``@ . + - _`` (Django's ``UnicodeUsernameValidator``),
with no surrounding spaces: markup, spaces and control characters are refused, never silently trimmed.
"""

from __future__ import annotations

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

USERNAME_MAX = 150
_VALIDATOR = UnicodeUsernameValidator()


def check_username(name: str) -> str:
    """``name`` unchanged if it is a valid user name; else ``ValidationError`` saying why."""
    if not name.strip():
        raise ValidationError("a user name is required")
    if name != name.strip():
        raise ValidationError("a user name cannot begin or end with spaces")
    if len(name) > USERNAME_MAX:
        raise ValidationError(f"a user name has at most {USERNAME_MAX} characters")
    _VALIDATOR(name)
    return name
