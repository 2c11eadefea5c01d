"""``yapdns agent``: the collector (long-running, or one-shot backfill with ``--once``)."""

from __future__ import annotations

import glob
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from yapdns.cli.context import friendly_errors
from yapdns.core.errors import ConfigurationError


@click.command("agent")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="agent.yml")
@click.option("--once", is_flag=True, help="Read the inputs (or FILES) to their end, ship, wait for acks, exit.")
@click.option("--stats", "show_stats", is_flag=True, help="Print the stats the running agent writes (JSON) and exit.")
@click.option("--check", is_flag=True, help="Validate the config, print a summary and exit.")
@click.option("--replay-bad", "replay_bad", metavar="INPUT", help="Feed INPUT's set-aside bad lines again, ship, exit.")
@click.option("-F", "--format", "fmt", help="With FILES: their format (docs/parsers.md), e.g. cof.")
@click.option("--url", help="With FILES and no config: the server URL.")
@click.option("--token", envvar="YAPDNS_AGENT_TOKEN", help="Sensor token (or env YAPDNS_AGENT_TOKEN).")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), help="File holding the token.")
@click.option("--ca-file", type=click.Path(dir_okay=False, path_type=Path), help="CA bundle for the server's TLS.")
@click.option("--sensor", help="Sub-sensor name the observations are attributed to.")
@click.option("--timezone", help="IANA timezone for formats that log local time.")
@click.option("--year", type=int, help="Year for formats whose timestamps have none.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), help="Registry and spool dir.")
@click.option("--timeout", type=float, help="With --once: give up after this many seconds.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def agent(
    config_path: Path | None,
    once: bool,
    show_stats: bool,
    check: bool,
    replay_bad: str | None,
    fmt: str | None,
    url: str | None,
    token: str | None,
    token_file: Path | None,
    ca_file: Path | None,
    sensor: str | None,
    timezone: str | None,
    year: int | None,
    data_dir: Path | None,
    timeout: float | None,
    files: tuple[Path, ...],
) -> None:
    """Collect DNS observations from logs and ship them to a YAPDNS server.

    \b
    yapdns agent -c agent.yml                 run until SIGTERM (SIGHUP reloads inputs)
    yapdns agent -c agent.yml --once          backfill the configured inputs, then exit
    yapdns agent --once -F bind_query --url https://pdns.example --token-file t.txt query.log*
    yapdns agent -c agent.yml --stats         what the running agent reports
    yapdns agent -c agent.yml --replay-bad ID  lines input ID set aside, parsed again (agent stopped)

    See docs/agent.md for the config file and the delivery guarantees.
    """
    from yapdns.agent.config import load_config
    from yapdns.agent.service import setup_logging

    if files or fmt:
        _adhoc(
            config_path, once, fmt, files, url, token, token_file, ca_file, sensor, timezone, year, data_dir, timeout
        )
        return
    if config_path is None:
        raise click.UsageError("give a config (-c agent.yml), or --once --format F --url U --token T FILES")
    config = load_config(config_path)
    if show_stats:
        _print_stats(config.data_dir)
    elif check:
        _print_check(config)
    elif replay_bad:
        setup_logging("warning", config.logging.format)
        _replay_bad(config, replay_bad, timeout)
    elif once:
        setup_logging("warning", config.logging.format)
        _finish_once(config, timeout, keep_data=True)
    else:
        from yapdns.agent.service import AgentService

        setup_logging(config.logging.level, config.logging.format)
        sys.exit(AgentService(config, config_path).run())


def _adhoc(
    config_path: Path | None,
    once: bool,
    fmt: str | None,
    files: tuple[Path, ...],
    url: str | None,
    token: str | None,
    token_file: Path | None,
    ca_file: Path | None,
    sensor: str | None,
    timezone: str | None,
    year: int | None,
    data_dir: Path | None,
    timeout: float | None,
) -> None:
    """``--once --format F FILES``: one input built from the command line."""
    from yapdns.agent.config import config_from_dict, load_config
    from yapdns.agent.service import setup_logging

    if not (once and fmt and files):
        raise click.UsageError("FILES need --once and --format")
    entry: dict[str, Any] = {"id": "files", "format": fmt, "paths": [glob.escape(str(f.resolve())) for f in files]}
    if sensor:
        entry["sensor"] = sensor
    options = {k: v for k, v in (("timezone", timezone), ("year", year)) if v is not None}
    if options:
        entry["options"] = options
    base = load_config(config_path) if config_path else None
    temporary = data_dir is None and base is None
    data = data_dir or (base.data_dir if base else Path(tempfile.mkdtemp(prefix="yapdns-agent-")))
    doc: dict[str, Any] = {"inputs": [entry], "path.data": str(data), "output": _output(base, url, token, token_file)}
    if ca_file:
        doc["output"]["ca_file"] = str(ca_file)
    config = config_from_dict(doc, base_dir=Path.cwd(), source="command line")
    setup_logging("warning", base.logging.format if base else "plain")
    _finish_once(config, timeout, keep_data=not temporary)


def _output(base: Any, url: str | None, token: str | None, token_file: Path | None) -> dict[str, Any]:
    if base is not None and not url:
        out = {k: v for k, v in _struct_dict(base.output).items() if v is not None}
        return out
    if not url:
        raise click.UsageError("--url is required without a config")
    if token_file:
        return {"url": url, "token_file": str(token_file)}
    if not token:
        raise click.UsageError("--token, --token-file or YAPDNS_AGENT_TOKEN is required")
    return {"url": url, "token": token}


def _struct_dict(struct: Any) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(struct)  # type: ignore[no-any-return]


def _finish_once(config: Any, timeout: float | None, *, keep_data: bool) -> None:
    from yapdns.agent.backfill import run_once
    from yapdns.agent.pipeline import load_inputs_and_freeze
    from yapdns.agent.stats import summary_line

    load_inputs_and_freeze(config)  # this process is the agent's: its caches need no GC walks
    outcome = run_once(config, timeout=timeout)
    click.echo(summary_line(outcome.stats), err=True)
    timing = outcome.timing
    if "read_seconds" in timing:
        click.echo(f"read in {timing['read_seconds']:.1f} s, done in {timing['total_seconds']:.1f} s", err=True)
    for entry in outcome.stats["inputs"]:  # type: ignore[attr-defined]
        for sample in entry.get("bad_line_samples", [])[:5]:
            where = f"{sample['origin']}:{sample['line_no']}" if sample.get("origin") else f"line {sample['line_no']}"
            click.echo(f"  bad line {where} ({sample['code']}): {sample['message']}", err=True)
    problems = outcome.problems
    if not problems:
        if not keep_data:
            shutil.rmtree(config.data_dir, ignore_errors=True)
        return
    for problem in problems:
        click.secho(f"error: {problem}", fg="red", err=True)
    if not outcome.delivered:
        click.echo(
            f"the spool and registry are kept in {config.data_dir}; rerun with --data {config.data_dir}", err=True
        )
    sys.exit(1)


def _replay_bad(config: Any, input_id: str, timeout: float | None) -> None:
    from yapdns.agent.replay import replay_bad_lines, replay_dir
    from yapdns.agent.stats import summary_line

    outcome = replay_bad_lines(config, input_id, timeout=timeout)
    click.echo(summary_line(outcome.stats), err=True)
    for entry in outcome.stats["inputs"]:  # type: ignore[attr-defined]
        again = entry.get("set_aside", {}).get("kept", 0)
        click.echo(
            f"replayed {entry['lines']} lines of input {input_id}: {entry['observations']} observations, "
            f"{again} lines still bad (set aside again)",
            err=True,
        )
    if outcome.problems:
        for problem in outcome.problems:
            click.secho(f"error: {problem}", fg="red", err=True)
        kept = replay_dir(config.data_dir, input_id)
        click.echo(f"the replay is kept in {kept}; run the same command again to resume it", err=True)
        sys.exit(1)


def _print_stats(data_dir: Path) -> None:
    from yapdns.agent.stats import read_stats

    stats = read_stats(data_dir)
    if stats is None:
        raise ConfigurationError(f"no stats in {data_dir} yet: is the agent running with this config?")
    click.echo(json.dumps(stats, indent=2, sort_keys=True))


def _print_check(config: Any) -> None:
    click.echo(f"config OK: {config.source}")
    click.echo(f"  data: {config.data_dir}")
    click.echo(f"  output: {config.output.ingest_url}")
    for entry in config.inputs:
        state = "" if entry.enabled else " (disabled)"
        click.echo(f"  input {entry.id}: type {entry.type}, format {entry.format}{state}")
