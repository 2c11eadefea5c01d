"""The errors of reading an exchange file."""

from __future__ import annotations

from collections.abc import Callable

from yapdns.core.errors import YapdnsError

Reject = Callable[[str, str], None]  # (message, code): one object of the file is unusable, the rest is kept


class BadDocument(YapdnsError):
    """The whole file is unusable (not JSON, not a bundle or event)."""

    code = "bad_document"

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message[:300])
        self.code = code
