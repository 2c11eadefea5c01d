"""``yapdns agent -c agent.yml --replay-bad INPUT``: feed an input's set-aside bad lines again, once it is fixed.

All under the data directory's lock, so the agent must not be running on
it (stop it, fix the input's format or options, replay, start it again):

1. INPUT's bad-lines files (``bad/<id>.ndjson.1``, then ``bad/<id>.ndjson``)
   move into ``bad/<id>.replay/``, the ``path.data`` of a one-shot pipeline
   with its own spool, registry and stats: the agent's own positions and
   spool are never touched.
2. That pipeline runs one ``type: bad_lines`` input with INPUT's current
   ``format``, ``sensor`` and ``options``, ships what the lines give now and
   waits for the server's acknowledgements, as ``--once`` does.
3. When everything was delivered, the lines still bad (set aside again by
   the replay, at their own file and line number) go back to
   ``bad/<id>.ndjson`` and the replay directory is removed. Otherwise it
   stays, and the same command resumes it before taking new bad lines.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import msgspec

from yapdns.agent.backfill import BackfillOutcome, run_once
from yapdns.agent.badlines import bad_lines_path, rotated
from yapdns.agent.config import AgentConfig
from yapdns.agent.config_types import InputConfig
from yapdns.agent.inputs.bad_lines import BadLinesInput, BadLinesSettings
from yapdns.agent.service import data_dir_lock
from yapdns.core.errors import ConfigurationError


def replay_dir(data_dir: Path, input_id: str) -> Path:
    """Where a replay of ``input_id``'s bad lines keeps its files, spool and registry until it is delivered."""
    return data_dir / "bad" / f"{input_id}.replay"


def replay_bad_lines(config: AgentConfig, input_id: str, *, timeout: float | None = None) -> BackfillOutcome:
    """Replay ``input_id``'s bad lines through its current parser settings; see the module docstring."""
    source = next((c for c in config.inputs if c.id == input_id), None)
    if source is None:
        raise ConfigurationError(f"no input {input_id!r} in {config.source}")
    if source.type != "log":
        raise ConfigurationError(f"input {input_id!r} is of type {source.type!r}: only log inputs set lines aside")
    with data_dir_lock(config.data_dir):
        work = replay_dir(config.data_dir, input_id)
        files = _take_bad_lines(config.data_dir, input_id, work)
        outcome = run_once(_replay_config(config, source, work, files), timeout=timeout)
        if not outcome.problems:
            _give_back_still_bad(work, config.data_dir, input_id)
            shutil.rmtree(work)
    return outcome


def _take_bad_lines(data_dir: Path, input_id: str, work: Path) -> list[Path]:
    """The files to replay, oldest first: those of an unfinished replay, else the input's, moved into ``work``."""
    taken = sorted(work.glob("lines-*.ndjson"))
    if taken:
        return taken
    current = bad_lines_path(data_dir, input_id)
    found = [p for p in (rotated(current), current) if p.exists()]
    if not found:
        raise ConfigurationError(f"input {input_id!r} has no bad lines set aside ({current} does not exist)")
    work.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i, path in enumerate(found, start=1):
        os.replace(path, work / f"lines-{i}.ndjson")
    return sorted(work.glob("lines-*.ndjson"))


def _replay_config(config: AgentConfig, source: InputConfig, work: Path, files: list[Path]) -> AgentConfig:
    """A one-shot config: one ``bad_lines`` input with ``source``'s parser settings, ``work`` as path.data."""
    entry = InputConfig(
        id=source.id,
        type="bad_lines",
        format=source.format,
        sensor=source.sensor,
        options=source.options,
        settings=BadLinesSettings(paths=[str(p) for p in files]),
        raw={"type": "bad_lines", "replaying": source.id},
    )
    entry = BadLinesInput.check_config(entry, work, f"the replay of input {source.id!r}")
    return msgspec.structs.replace(config, inputs=[entry], data_dir=work, source=f"{config.source} (replay)")


def _give_back_still_bad(work: Path, data_dir: Path, input_id: str) -> None:
    """Lines the replay set aside again join the input's bad lines (kept 0600, as written)."""
    again = bad_lines_path(work, input_id)
    target = bad_lines_path(data_dir, input_id)
    for path in (rotated(again), again):
        if not path.exists():
            continue
        if not target.exists():
            os.replace(path, target)
            continue
        with path.open("rb") as src, target.open("ab") as dst:
            shutil.copyfileobj(src, dst)
