"""Flattening nested and overlapping ranges: the later-starting (inner) range wins inside it, the outer resumes."""

from __future__ import annotations

import gzip
from array import array
from pathlib import Path

import pytest

from yapdns.core.errors import ConfigurationError
from yapdns.enrich.rangefile import RangeTable, load


def _table(tmp_path: Path, *rows: str) -> list[tuple[int, int, int, bool]]:
    path = tmp_path / "ranges.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("".join(row + "\n" for row in rows))
    ids: dict[str, int] = {}
    table = load(path, RangeTable(array("I"), array("I")),
                 lambda fields: None if fields[0] == "skip" else ids.setdefault(fields[0], len(ids)))
    names = list(ids)
    return [(table.starts[i], table.ends[i], names[table.values[i]], bool(table.whole[i]))  # type: ignore[misc]
            for i in range(len(table.starts))]


def test_inner_ranges_win_and_the_outer_resumes(tmp_path: Path) -> None:
    assert _table(tmp_path, "0,99,A", "10,19,B", "12,13,C", "30,39,D", "50,120,E", "130,139,skip", "140,149,F") == [
        (0, 9, "A", False), (10, 11, "B", False), (12, 13, "C", True), (14, 19, "B", False), (20, 29, "A", False),
        (30, 39, "D", True), (40, 49, "A", False), (50, 120, "E", True), (140, 149, "F", True)]


def test_equal_starts_go_to_the_later_row(tmp_path: Path) -> None:
    assert _table(tmp_path, "0,9,A", "0,4,B") == [(0, 4, "B", True), (5, 9, "A", False)]


def test_unsorted_rows_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="out of order"):
        _table(tmp_path, "10,19,A", "0,5,B")
