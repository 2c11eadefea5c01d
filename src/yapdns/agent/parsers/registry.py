"""Find parsers by format name: ``yapdns.agent.parsers.<name>.PARSER``.

Registration is the file itself: adding a format means adding one module
that exports ``PARSER``. Nothing else is edited.
"""

from __future__ import annotations

import importlib
import pkgutil

from yapdns.agent import parsers
from yapdns.agent.parsers.base import DocumentParser, LineParser
from yapdns.core.errors import ConfigurationError

_NOT_FORMATS = frozenset({"base", "registry"})


def available() -> list[str]:
    """Every format name, sorted."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(parsers.__path__)
        if m.name not in _NOT_FORMATS and not m.name.startswith("_")
    )


def parser_class(name: str) -> type[LineParser] | type[DocumentParser]:
    """The parser class of format ``name``; raise ``ConfigurationError`` if unknown."""
    if name not in available():
        raise ConfigurationError(f"unknown format {name!r}; known formats: {', '.join(available())}")
    module = importlib.import_module(f"yapdns.agent.parsers.{name}")
    cls = getattr(module, "PARSER", None)
    if not (isinstance(cls, type) and issubclass(cls, (LineParser, DocumentParser))):
        raise ConfigurationError(f"format module {name!r} does not export a PARSER class")
    if cls.name != name:
        raise ConfigurationError(f"format module {name!r} exports a parser named {cls.name!r}")
    return cls
