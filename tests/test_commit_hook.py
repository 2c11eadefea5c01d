"""The commit-msg hook enforces docs/development.md's commit rules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[1] / ".githooks" / "commit-msg"


def _run(tmp_path: Path, message: str) -> int:
    path = tmp_path / "MSG"
    path.write_text(message)
    return subprocess.run([str(HOOK), str(path)], capture_output=True, check=False).returncode


@pytest.mark.parametrize(
    "message",
    [
        "x" * 73 + "\n\nwhy\n",
        "lint\n\nruff\n",
        "storage: name the row-id cache entries\n",
        "storage: name the row-id cache entries\n\n# only a comment\n",
    ],
)
def test_a_message_that_breaks_the_rules_is_refused(tmp_path: Path, message: str) -> None:
    assert _run(tmp_path, message) == 1


@pytest.mark.parametrize(
    "message",
    [
        "storage: name the row-id cache entries\n\nPositional lists hid what each slot meant.\n",
        "Merge branch 'arch': wire tests, C boundary, storage seams, app skeleton, bad lines\n",
    ],
)
def test_a_good_message_passes(tmp_path: Path, message: str) -> None:
    assert _run(tmp_path, message) == 0
