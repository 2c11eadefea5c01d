"""The file states of one log input: which known file a file on disk is.

Matching a file seen on disk to a state, in order:

1. the same device and inode, still starting with the fingerprinted bytes:
   the same file (renamed or not); resume at its offset;
2. a different inode, starting with the fingerprinted bytes of a state whose
   own file is gone: either truncated away (copytruncate: this is the
   rotated copy) or, with a full-length fingerprint, no longer on disk (the
   same content moved, e.g. an NFS remount); resume at its offset, so only
   the lines written after our last read are read from the copy;
3. starting with the fingerprinted bytes of a file a harvester is reading
   right now: perhaps a copy taken while the original is still live
   (copytruncate between copy and truncate); wait until the original is
   truncated (its old state is then free for the copy), but no longer than
   ``defer_limit`` seconds: a file that merely starts like another is new;
4. otherwise a new file: read from the start.

Fingerprints shorter than ``MIN_MATCH_BYTES`` never match by content alone.
A state whose file vanished is kept ``clean_removed`` seconds, then forgotten.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import msgspec

from yapdns.agent.identity import FileState, fingerprint, new_state

DEAD = -1  # the inode number of a state whose inode now holds other content
MIN_MATCH_BYTES = 64


class FileTable:
    """Known files of one input, by state id, indexed by inode and by full fingerprint."""

    def __init__(self, fp_bytes: int, defer_limit: float = 30.0) -> None:
        self.fp_bytes = fp_bytes
        self.defer_limit = defer_limit
        self._deferred: dict[tuple[int, int], float] = {}  # inode -> when rule 3 first held it back
        self.states: dict[str, FileState] = {}
        self._by_inode: dict[tuple[int, int], str] = {}
        self._frozen: dict[str, tuple[object, ...]] = {}  # the last snapshot, per state
        self._dirty: set[str] = set()

    def claim(
        self, path: str, st: os.stat_result, head: bytes, held: set[str], present: set[tuple[int, int]], now: float
    ) -> FileState | None:
        """The state for the file at ``path`` (``head``: its first bytes); ``None`` means "not yet".

        ``held``: states a harvester reads now; ``present``: the inodes this scan found.
        """
        known = self._inode_match(st.st_dev, st.st_ino, head)
        if known is not None:
            return self._seen(known, path, now)
        twin = self._content_match(head, held, present)
        if twin is not None and twin.id in held:
            since = self._deferred.setdefault((st.st_dev, st.st_ino), now)
            if now - since < self.defer_limit:
                return None
            twin = None
        self._deferred.pop((st.st_dev, st.st_ino), None)
        if twin is not None:
            self._move(twin, st.st_dev, st.st_ino)
            return self._seen(twin, path, now)
        return self._add(new_state(path, st, head[: self.fp_bytes], now))

    def idle(self, st: os.stat_result, path: str, now: float) -> FileState | None:
        """The state of a known file read to its end, unchanged in size, whose parser holds nothing (no open)."""
        sid = self._by_inode.get((st.st_dev, st.st_ino))
        state = self.states.get(sid) if sid is not None else None
        if state is None or (state.offset != st.st_size and not state.done) or state.holding:
            return None
        return self._seen(state, path, now)

    def fork(self, old: FileState, path: str, st: os.stat_result, head: bytes, now: float) -> FileState:
        """The file behind ``old`` was truncated or rewritten: a new state for its new content.

        ``old`` stays known (with a dead inode) so that a rotated copy of the
        old content can still claim it by fingerprint.
        """
        self._move(old, DEAD, DEAD)
        return self._add(new_state(path, st, head[: self.fp_bytes], now))

    def clean(self, now: float, older_than: float, held: Iterable[str]) -> list[str]:
        """Forget states not seen for ``older_than`` seconds (never a held one)."""
        keep = set(held)
        self._deferred = {k: t for k, t in self._deferred.items() if now - t < 2 * self.defer_limit}
        gone = [sid for sid, s in self.states.items() if sid not in keep and now - s.seen > older_than]
        for sid in gone:
            self._move(self.states[sid], DEAD, DEAD)
            del self.states[sid]
            self._frozen.pop(sid, None)
            self._dirty.discard(sid)
        return gone

    def snapshot(self, changing: Iterable[str]) -> dict[str, tuple[object, ...]]:
        """Every state as a tuple; only ``changing`` (held by harvesters) and touched ones are re-read."""
        for sid in (*changing, *self._dirty):
            state = self.states.get(sid)
            if state is not None:
                self._frozen[sid] = msgspec.structs.astuple(state)
        self._dirty.clear()
        return dict(self._frozen)

    def restore(self, snapshot: object) -> None:
        """Load a ``snapshot()`` written before a restart."""
        if not isinstance(snapshot, dict):
            return
        fields = FileState.__struct_fields__
        for row in snapshot.values():
            if len(row) > len(fields):
                raise ValueError(f"a file state of {len(row)} fields; this agent knows {len(fields)}")
            # a row written by an older version is shorter: its missing fields take their defaults
            state = msgspec.convert(dict(zip(fields, row, strict=False)), FileState)
            self.states[state.id] = state
            self._frozen[state.id] = msgspec.structs.astuple(state)
            if state.ino != DEAD:
                self._by_inode[(state.dev, state.ino)] = state.id

    def _add(self, state: FileState) -> FileState:
        self.states[state.id] = state
        self._move(state, state.dev, state.ino)
        return state

    def _move(self, state: FileState, dev: int, ino: int) -> None:
        if self._by_inode.get((state.dev, state.ino)) == state.id:
            del self._by_inode[(state.dev, state.ino)]
        state.dev, state.ino = dev, ino
        if ino != DEAD:
            displaced = self._by_inode.get((dev, ino))
            if displaced is not None and displaced != state.id:
                self.states[displaced].dev = self.states[displaced].ino = DEAD
                self._dirty.add(displaced)
            self._by_inode[(dev, ino)] = state.id
        self._dirty.add(state.id)

    def _inode_match(self, dev: int, ino: int, head: bytes) -> FileState | None:
        sid = self._by_inode.get((dev, ino))
        if sid is None:
            return None
        state = self.states[sid]
        if len(head) >= state.fp_len and fingerprint(head[: state.fp_len]) == state.fp:
            return state
        self._move(state, DEAD, DEAD)  # the inode now holds other content
        return None

    def _content_match(self, head: bytes, held: set[str], present: set[tuple[int, int]]) -> FileState | None:
        """The state whose fingerprinted bytes ``head`` starts with (rules 2 and 3), longest first."""
        prefixes: dict[int, str] = {}
        best: FileState | None = None
        for state in self.states.values():
            moved = state.fp_len == self.fp_bytes and (state.dev, state.ino) not in present
            eligible = state.id in held or state.ino == DEAD or moved
            if not eligible or state.fp_len < MIN_MATCH_BYTES or len(head) < state.fp_len:
                continue
            if state.fp_len not in prefixes:
                prefixes[state.fp_len] = fingerprint(head[: state.fp_len])
            if prefixes[state.fp_len] == state.fp and (best is None or state.fp_len > best.fp_len):
                best = state
        return best

    def _seen(self, state: FileState, path: str, now: float) -> FileState:
        state.path, state.seen = path, now
        self._dirty.add(state.id)
        return state
