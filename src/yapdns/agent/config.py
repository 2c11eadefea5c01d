"""The agent's YAML config (``agent.yml``): parsed, validated, every error naming its key.

Filebeat conventions: top-level sections ``inputs``, ``output``, ``path.data``
(dotted keys and nested mappings are the same thing), ``aggregate``, ``spool``,
``stats``, ``logging``; ``${VAR}`` expansion in strings; durations like ``10s``
and sizes like ``16MiB``. Unknown keys are errors, never silently ignored.

Each input has common keys (``id type enabled format sensor options``); every
other key belongs to its input type, whose module declares a settings struct
(``yapdns.agent.inputs.<type>.INPUT.settings_type``), so that a typo in a
dnstap or pcap setting is reported exactly like one in a log setting. Relative
paths are resolved against the directory of the config file.
"""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec
import yaml

from yapdns.agent.config_types import ByteSize, Duration, InputConfig, dec_hook, expand_env
from yapdns.agent.parsers.base import ParserOptions
from yapdns.core.errors import ConfigurationError

_TOP_KEYS = ("path", "inputs", "output", "aggregate", "spool", "stats", "logging", "metrics")
_INPUT_COMMON = ("id", "type", "enabled", "format", "sensor", "options")
_OPTION_KEYS = ("timezone", "year", "extra")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MSGSPEC_PATH = re.compile(r" - at `\$(.*)`$")
T = TypeVar("T")


class BackoffConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    initial: Duration = Duration(1.0)
    max: Duration = Duration(60.0)


class OutputConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where batches go: the server's ingest API."""

    url: str
    token: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    timeout: Duration = Duration(30.0)
    batch_size: int = 5000
    in_flight: int = 2  # batches sent and not yet acknowledged (shipper.py)
    backoff: BackoffConfig = BackoffConfig()
    shutdown_timeout: Duration = Duration(10.0)

    @property
    def ingest_url(self) -> str:
        """The ingest endpoint: ``url`` itself if it names it, else ``<url>/api/v1/ingest``."""
        base = self.url.rstrip("/")
        return base if base.endswith("/api/v1/ingest") else f"{base}/api/v1/ingest"

    def resolved_token(self) -> str:
        """The sensor token, from ``token`` or the first line of ``token_file``."""
        if self.token:
            return self.token.strip()
        assert self.token_file is not None
        try:
            return Path(self.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"output.token_file: cannot read {self.token_file}: {exc.strerror}") from None


class AggregateConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The local aggregation window."""

    window: Duration = Duration(10.0)
    max_keys: int = 100_000


class SpoolConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The disk spool between aggregator and shipper."""

    max_bytes: ByteSize = ByteSize(1 << 30)
    segment_bytes: ByteSize = ByteSize(16 << 20)
    on_full: Literal["block", "drop"] = "block"


class StatsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    period: Duration = Duration(60.0)


class MetricsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The optional Prometheus listener (like filebeat's ``http`` section): off unless ``enabled``."""

    enabled: bool = False
    host: str = "127.0.0.1"  # no authentication: keep it on loopback unless a firewall guards it
    port: int = 9479


class LoggingConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["plain", "json"] = "plain"  # json: the server's YAPDNS_LOG_FORMAT=json lines


class PathConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    data: str = "data"


class AgentConfig(msgspec.Struct, frozen=True, kw_only=True):
    inputs: list[InputConfig]
    output: OutputConfig
    data_dir: Path
    aggregate: AggregateConfig = AggregateConfig()
    spool: SpoolConfig = SpoolConfig()
    stats: StatsConfig = StatsConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()
    source: str = "<config>"


def load_config(path: Path) -> AgentConfig:
    """Read and validate ``path``; raise ``ConfigurationError`` naming the file and the bad key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read config {path}: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
    try:
        return config_from_dict(doc if doc is not None else {}, base_dir=path.resolve().parent, source=str(path))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None


def config_from_dict(doc: object, *, base_dir: Path, source: str = "<config>") -> AgentConfig:
    """Validate an already parsed config tree."""
    if not isinstance(doc, dict):
        raise ConfigurationError("the config must be a mapping of sections")
    tree = _undot(expand_env(doc))
    unknown = sorted(set(tree) - set(_TOP_KEYS))
    if unknown:
        raise ConfigurationError(f"unknown key {unknown[0]!r}; known sections: {', '.join(_TOP_KEYS)}")
    if "output" not in tree:
        raise ConfigurationError("missing section 'output' (at least output.url and output.token)")
    output = _resolve_output(_convert(tree["output"], OutputConfig, "output"), base_dir)
    inputs = _inputs(tree.get("inputs"), base_dir)
    path_cfg = _convert(tree.get("path") or {}, PathConfig, "path")
    aggregate = _convert(tree.get("aggregate") or {}, AggregateConfig, "aggregate")
    spool = _convert(tree.get("spool") or {}, SpoolConfig, "spool")
    _check_limits(output, aggregate, spool)
    return AgentConfig(
        inputs=inputs,
        output=output,
        data_dir=_path(path_cfg.data, base_dir),
        aggregate=aggregate,
        spool=spool,
        stats=_convert(tree.get("stats") or {}, StatsConfig, "stats"),
        logging=_convert(tree.get("logging") or {}, LoggingConfig, "logging"),
        metrics=_convert(tree.get("metrics") or {}, MetricsConfig, "metrics"),
        source=source,
    )


def _undot(tree: dict[str, Any]) -> dict[str, Any]:
    """``{"path.data": x}`` → ``{"path": {"data": x}}`` (top level only, like filebeat)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        head, _, rest = str(key).partition(".")
        if rest:
            section = out.setdefault(head, {})
            if not isinstance(section, dict):
                raise ConfigurationError(f"{key}: {head!r} is both a value and a section")
            section[rest] = value
        elif isinstance(value, dict) and isinstance(out.get(head), dict):
            out[head].update(value)
        else:
            out[head] = value
    return out


def _convert(value: object, kind: type[T], where: str) -> T:
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: expected a mapping, got {type(value).__name__}")
    try:
        return msgspec.convert(value, kind, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(_located(str(exc), where)) from None
    except ConfigurationError as exc:  # raised by a settings struct's own checks (__post_init__)
        raise ConfigurationError(f"{where}: {exc}") from None


def _located(message: str, where: str) -> str:
    """Rewrite msgspec's ``... - at `$.a[0]``` into ``where.a[0]: ...``; unknown fields too."""
    unknown = re.match(r"Object contains unknown field `([^`]*)`(?: - at `\$(.*)`)?$", message)
    if unknown:
        return f"{where}{unknown.group(2) or ''}: unknown key {unknown.group(1)!r}"
    missing = re.match(r"Object missing required field `([^`]*)`(?: - at `\$(.*)`)?$", message)
    if missing:
        return f"{where}{missing.group(2) or ''}: missing required key {missing.group(1)!r}"
    match = _MSGSPEC_PATH.search(message)
    if match:
        return f"{where}{match.group(1)}: {message[: match.start()]}"
    return f"{where}: {message}"


def _resolve_output(output: OutputConfig, base_dir: Path) -> OutputConfig:
    if not re.match(r"https?://[^/\s]+", output.url):
        raise ConfigurationError(f"output.url: expected an http:// or https:// URL, got {output.url!r}")
    if bool(output.token) == bool(output.token_file):
        raise ConfigurationError("output: set exactly one of 'token' (e.g. ${YAPDNS_AGENT_TOKEN}) or 'token_file'")
    if bool(output.client_cert) != bool(output.client_key) and output.client_key:
        raise ConfigurationError("output.client_key: needs output.client_cert")
    if not 1 <= output.batch_size <= 100_000:
        raise ConfigurationError("output.batch_size: must be between 1 and 100000")
    if not 1 <= output.in_flight <= 64:
        raise ConfigurationError("output.in_flight: must be between 1 and 64")
    files = {k: getattr(output, k) for k in ("token_file", "ca_file", "client_cert", "client_key")}
    resolved = {k: str(_path(v, base_dir)) for k, v in files.items() if v}
    return msgspec.structs.replace(output, **resolved)


def _check_limits(output: OutputConfig, aggregate: AggregateConfig, spool: SpoolConfig) -> None:
    if aggregate.max_keys < 1:
        raise ConfigurationError("aggregate.max_keys: must be at least 1")
    if spool.segment_bytes < 4096:
        raise ConfigurationError("spool.segment_bytes: must be at least 4KiB")
    if spool.max_bytes < spool.segment_bytes:
        raise ConfigurationError("spool.max_bytes: must be at least spool.segment_bytes")
    if output.backoff.initial <= 0 or output.backoff.max < output.backoff.initial:
        raise ConfigurationError("output.backoff: need 0 < initial <= max")


def _path(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _inputs(value: object, base_dir: Path) -> list[InputConfig]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigurationError("inputs: expected a list of inputs")
    parsed = [_input(entry, f"inputs[{i}]", base_dir) for i, entry in enumerate(value)]
    seen: set[str] = set()
    for i, cfg in enumerate(parsed):
        if cfg.id in seen:
            raise ConfigurationError(f"inputs[{i}].id: {cfg.id!r} is used twice; give each input its own 'id'")
        seen.add(cfg.id)
    return parsed


def _input(entry: object, where: str, base_dir: Path) -> InputConfig:
    from yapdns.agent.inputs import registry as input_registry

    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected a mapping")
    common = {k: entry[k] for k in _INPUT_COMMON if k in entry}
    kind = common.get("type", "log")
    if not isinstance(kind, str):
        raise ConfigurationError(f"{where}.type: expected a string")
    try:
        cls = input_registry.input_class(kind)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}.type: {exc}") from None
    if "fields" in entry:
        raise ConfigurationError(
            f"{where}: unknown key 'fields': observations carry no free-form fields; "
            "label an input with 'sensor' and pass parser settings in 'options'"
        )
    raw_settings = {k: v for k, v in entry.items() if k not in _INPUT_COMMON}
    settings = _convert(raw_settings, cls.settings_type, where)
    ident = common.get("id") or common.get("format") or kind
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        raise ConfigurationError(f"{where}.id: must match {_ID.pattern}, got {ident!r}")
    cfg = InputConfig(
        id=ident,
        type=kind,
        enabled=_typed(common.get("enabled", True), bool, f"{where}.enabled"),
        format=_format(common.get("format"), f"{where}.format"),
        sensor=_sensor(common.get("sensor"), f"{where}.sensor"),
        options=_options(common.get("options"), f"{where}.options"),
        settings=settings,
        raw=entry,
    )
    return cls.check_config(cfg, base_dir, where)


def _typed(value: object, kind: type[T], where: str) -> T:
    if not isinstance(value, kind):
        raise ConfigurationError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _format(value: object, where: str) -> str | None:
    if value is None:
        return None
    from yapdns.agent.parsers import registry as parser_registry

    try:
        parser_registry.parser_class(_typed(value, str, where))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None
    return str(value)


def _sensor(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}", value):
        raise ConfigurationError(f"{where}: a short name of letters, digits and ._:@/- expected, got {value!r}")
    return value


def _options(value: object, where: str) -> ParserOptions:
    if value is None:
        return ParserOptions()
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: expected a mapping")
    unknown = sorted(set(value) - set(_OPTION_KEYS))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(_OPTION_KEYS)}")
    options = _convert(value, ParserOptions, where)
    if options.timezone:
        try:
            zoneinfo.ZoneInfo(options.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"{where}.timezone: unknown IANA time zone {options.timezone!r}") from None
    return options
