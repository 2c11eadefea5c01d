"""The prospector: finds the files of one log input and keeps one harvester per file.

Each scan expands the input's globs (``**`` allowed), drops names matching
``exclude_files``, and asks the ``FileTable`` which known file each one is
(by identity, never by name). It starts a harvester for a file with unread
data, notices that a harvested file is no longer under any watched name
(rotated or removed: the harvester then reads it to its end and closes once
quiet), and forgets states of files long gone.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterable
from typing import BinaryIO

from yapdns.agent.file_table import FileTable
from yapdns.agent.harvester import DocumentHarvester, LineHarvester
from yapdns.agent.identity import FileState, read_head

log = logging.getLogger(__name__)

Harvester = LineHarvester | DocumentHarvester
HarvesterFactory = Callable[[BinaryIO, FileState], Harvester]


def expand(patterns: Iterable[str], excludes: Iterable[re.Pattern[str]]) -> dict[str, os.stat_result]:
    """Regular files matching ``patterns`` and no exclude pattern, by path (sorted)."""
    found: dict[str, os.stat_result] = {}
    for pattern in patterns:
        for path in sorted(glob.glob(pattern, recursive=True)):
            if path in found or any(x.search(path) for x in excludes):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[path] = st
    return found


class LogProspector:
    """The scan half of a log input: files → states → harvesters."""

    def __init__(
        self,
        patterns: list[str],
        excludes: list[re.Pattern[str]],
        table: FileTable,
        open_harvester: HarvesterFactory,
        *,
        clean_removed: float,
    ) -> None:
        self.patterns = patterns
        self.excludes = excludes
        self.table = table
        self.open_harvester = open_harvester
        self.clean_removed = clean_removed
        self.harvesters: dict[str, Harvester] = {}  # by state id
        self._present: set[tuple[int, int]] = set()  # inodes found by the current scan
        self.sizes: dict[str, int] = {}  # last seen size per state id (for progress)

    def scan(self) -> None:
        """One pass over the globs: start harvesters, mark rotated ones, clean old states."""
        now = time.time()
        seen: set[str] = set()
        held_inodes = {(h.state.dev, h.state.ino): sid for sid, h in self.harvesters.items()}
        found = expand(self.patterns, self.excludes)
        self._present = {(st.st_dev, st.st_ino) for st in found.values()}
        for path, st in found.items():
            sid = held_inodes.get((st.st_dev, st.st_ino))
            if sid is not None:
                self._rename(self.harvesters[sid].state, path, now)
                seen.add(sid)
                continue
            idle = self.table.idle(st, path, now)
            if idle is not None:  # known, fully read, unchanged in size: no need to open it
                self.sizes[idle.id] = st.st_size
                seen.add(idle.id)
                continue
            state = self._open(path, st, now)
            if state is not None:
                seen.add(state.id)
        for sid, harvester in self.harvesters.items():
            harvester.rotated = sid not in seen
        self.table.clean(now, self.clean_removed, self.harvesters)

    def close(self, sid: str) -> None:
        harvester = self.harvesters.pop(sid)
        harvester.close()

    def close_all(self) -> None:
        for sid in list(self.harvesters):
            self.close(sid)

    def progress(self) -> tuple[int, int]:
        done = sum(s.offset for sid, s in self.table.states.items() if sid in self.sizes)
        return done, sum(self.sizes.values())

    def _rename(self, state: FileState, path: str, now: float) -> None:
        if state.path != path:
            log.info("%s: now named %s", state.path, path)
        state.path, state.seen = path, now
        self.sizes[state.id] = os.fstat(self.harvesters[state.id].fh.fileno()).st_size

    def _open(self, path: str, st: os.stat_result, now: float) -> FileState | None:
        try:
            fh = open(path, "rb")  # noqa: SIM115  (the harvester owns and closes it)
        except OSError as exc:
            log.warning("%s: cannot open: %s", path, exc.strerror)
            return None
        opened = os.fstat(fh.fileno())
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
            fh.close()  # replaced between stat and open: next scan
            return None
        head = read_head(fh, self.table.fp_bytes)
        state = self.table.claim(path, opened, head, set(self.harvesters), self._present, now)
        if state is None or not self._has_news(state, opened):
            fh.close()
            return state
        self.sizes[state.id] = opened.st_size
        self.harvesters[state.id] = self.open_harvester(fh, state)
        log.debug("%s: harvesting from offset %d", path, state.offset)
        return state

    @staticmethod
    def _has_news(state: FileState, st: os.stat_result) -> bool:
        """Unread data, a truncation to notice, or held lines to release; a document is read once per identity."""
        return not state.done and (st.st_size != state.offset or state.holding)
