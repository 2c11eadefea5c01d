"""Find agent input types by name: ``yapdns.agent.inputs.<type>.INPUT``.

Like the parser registry, registration is the file itself: ``type: dnstap``
in the config imports ``yapdns.agent.inputs.dnstap`` and uses its ``INPUT``
class. Helper modules of an input (no ``INPUT``) are simply not types.
"""

from __future__ import annotations

import importlib
import pkgutil

from yapdns.agent import inputs
from yapdns.agent.inputs.base import AgentInput
from yapdns.core.errors import ConfigurationError

_NOT_TYPES = frozenset({"base", "registry"})


def _candidates() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules(inputs.__path__)
        if m.name not in _NOT_TYPES and not m.name.startswith("_") and not m.ispkg
    )


def available() -> list[str]:
    """Every input type that can be loaded here, sorted."""
    return [name for name in _candidates() if _load(name) is not None]


def input_class(kind: str) -> type[AgentInput]:
    """The ``INPUT`` class of input type ``kind``; raise ``ConfigurationError`` if there is none."""
    if kind not in _candidates():
        raise ConfigurationError(f"unknown input type {kind!r}; known types: {', '.join(available())}")
    try:
        module = importlib.import_module(f"yapdns.agent.inputs.{kind}")
    except ImportError as exc:
        raise ConfigurationError(f"input type {kind!r} cannot be loaded here: {exc}") from None
    cls = getattr(module, "INPUT", None)
    if not (isinstance(cls, type) and issubclass(cls, AgentInput)):
        raise ConfigurationError(f"unknown input type {kind!r}; known types: {', '.join(available())}")
    return cls


def _load(kind: str) -> type[AgentInput] | None:
    try:
        module = importlib.import_module(f"yapdns.agent.inputs.{kind}")
    except ImportError:
        return None
    cls = getattr(module, "INPUT", None)
    return cls if isinstance(cls, type) and issubclass(cls, AgentInput) else None
