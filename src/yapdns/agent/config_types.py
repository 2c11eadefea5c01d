"""Value types of the agent config: durations, byte sizes, ``${VAR}`` expansion, and one input's entry.

Follows filebeat's conventions: a duration is a number of seconds or a string
with a unit (``250ms``, ``10s``, ``5m``, ``1h``); a size is a number of bytes or a
string with a unit (``512KiB``, ``16MiB``, ``1GiB``, ``1GB``); ``${VAR}`` and
``${VAR:default}`` in any string are replaced by environment variables, so that
secrets can stay outside the file. An unset variable without a default is an error.

``InputConfig`` lives here, below both ``config.py`` (which builds it) and the input types (which read it), so
that neither imports the other.
"""

from __future__ import annotations

import os
import re
from typing import Any

import msgspec

from yapdns.agent.parsers.base import ParserOptions
from yapdns.core.errors import ConfigurationError

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


class Duration(float):
    """Seconds, written in the config as ``10s``, ``250ms``, ``5m`` or a bare number."""


class ByteSize(int):
    """Bytes, written in the config as ``16MiB``, ``1GB`` or a bare number."""


def parse_duration(value: object) -> Duration:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return Duration(value)
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected a duration such as 10s, 250ms or 5m, got {value!r}")
    return Duration(float(match.group(1)) * _DURATION_UNITS[match.group(2)])


def parse_size(value: object) -> ByteSize:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return ByteSize(value)
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected a size such as 16MiB, 1GB or 4096, got {value!r}")
    unit = (match.group(2) or "b").lower()
    return ByteSize(int(float(match.group(1)) * _SIZE_UNITS[unit]))


def dec_hook(kind: type, value: Any) -> Any:
    """msgspec decoding hook for the custom value types."""
    if kind is Duration:
        return parse_duration(value)
    if kind is ByteSize:
        return parse_size(value)
    raise NotImplementedError(f"no decoder for {kind!r}")


def expand_env(value: Any, where: str = "") -> Any:
    """Replace ``${VAR}`` / ``${VAR:default}`` in every string of a parsed YAML tree."""
    if isinstance(value, str):
        return _ENV.sub(lambda m: _lookup(m, where), value)
    if isinstance(value, list):
        return [expand_env(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    return value


def _lookup(match: re.Match[str], where: str) -> str:
    name, default = match.group(1), match.group(2)
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise ConfigurationError(
        f"{where}: environment variable {name} is not set (write ${{{name}:default}} for a default)"
    )


class InputConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of ``inputs``: the common keys plus the type's own validated ``settings``."""

    id: str
    type: str = "log"
    enabled: bool = True
    format: str | None = None
    sensor: str | None = None
    options: ParserOptions = ParserOptions()
    settings: Any = None  # an instance of the input type's ``settings_type``
    raw: dict[str, Any] = {}  # the entry as written, to notice changes on reload

    @property
    def parser_options(self) -> ParserOptions:
        return msgspec.structs.replace(self.options, sensor_id=self.sensor)
