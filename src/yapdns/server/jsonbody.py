"""Reading a JSON request body into a typed struct: the value, or the 400 that says what is wrong with it.

Used by every management endpoint, so that unknown fields, wrong types, over-long values and JSON nested too
deeply are all refused the same way, by name, and never reach a model or raise a 500.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec
from django.http import HttpRequest, HttpResponse

from yapdns.server.security import error

T = TypeVar("T")


def decode_body(request: HttpRequest, spec: type[T], empty: bytes = b"") -> T | HttpResponse:
    """The JSON body as ``spec`` (``empty`` stands in for an empty body), or a 400 response."""
    try:
        return msgspec.json.decode(request.body or empty, type=spec)
    except msgspec.DecodeError as exc:  # ValidationError included: names the field
        return error(400, f"bad request body: {exc}")
    except RecursionError:
        return error(400, "bad request body: the JSON is nested too deeply")
