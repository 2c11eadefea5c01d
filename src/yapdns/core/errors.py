"""The exception hierarchy: each class's docstring reads as its message.

Every rejection carries a short stable ``code`` so that rejects can be
counted per reason by the ingest API, the importer and the agent.
"""

from __future__ import annotations


class YapdnsError(Exception):
    """A YAPDNS operation failed."""

    code = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class InvalidObservation(YapdnsError):
    """The observation is not valid."""

    code = "invalid"


class MissingField(InvalidObservation):
    """A required field is missing."""

    code = "missing_field"


class InvalidName(InvalidObservation):
    """The DNS name is not valid."""

    code = "bad_name"


class InvalidRRType(InvalidObservation):
    """The RR type is not a known mnemonic, TYPEn or number in 0..65535."""

    code = "bad_rrtype"


class InvalidRdata(InvalidObservation):
    """The rdata cannot be parsed for its RR type."""

    code = "bad_rdata"


class InvalidTime(InvalidObservation):
    """The time is not a UTC epoch in seconds, or time_first is after time_last."""

    code = "bad_time"


class InvalidValue(InvalidObservation):
    """A field has a value of the wrong type or out of range."""

    code = "bad_value"


class MalformedInput(YapdnsError):
    """The input could not be decoded."""

    code = "malformed"

    def __init__(self, message: str | None = None, line: int | None = None) -> None:
        self.line = line
        if line is not None and message:
            message = f"line {line}: {message}"
        super().__init__(message)


class BatchTooLarge(MalformedInput):
    """The batch is larger than the server accepts in one request; send smaller batches."""

    code = "too_large"


class InvalidQuery(YapdnsError):
    """The query is not valid."""

    code = "bad_query"


class StoreError(YapdnsError):
    """The record store failed."""

    code = "store"


class ConfigurationError(YapdnsError):
    """The configuration is not valid."""

    code = "config"
