"""The server's default settings bound its memory on the embedded store at any store size (issue 13, §7).

What grows with the store is SQLite's page cache (one per request thread's reader connection, one for the
writer, 16 MiB for the checkpointer), the writer's row-id cache (~430 bytes a record) and the per-name rollup's
pending deltas (at most ``rollup.PENDING_MAX`` keys, ~260 bytes each: measured ~194 with tracemalloc over a
folded group, plus the name strings they keep); the interpreter,
Django and the normalization caches take about 150 MiB more and do not grow with the store. SQLite's mmap of
the store is file-backed page cache the kernel reclaims, so it is not part of the budget
(docs/performance.md, "Memory").
"""

from __future__ import annotations

from yapdns import config
from yapdns.cli.serve import serve
from yapdns.storage import rollup

BUDGET_MIB = 512
FIXED_MIB = 150  # interpreter, Django, normalization caches (benchmarks/soak.py measures them)
ROWID_ENTRY_BYTES = 430
ROLLUP_ENTRY_BYTES = 260
CHECKPOINTER_MIB = 16


def default_threads() -> int:
    option = next(p for p in serve.params if p.name == "threads")
    return int(option.default)  # type: ignore[arg-type]


def test_the_defaults_bound_the_servers_memory() -> None:
    cache_mib = int(config.default("YAPDNS_SQLITE_CACHE_MB"))
    rowids = int(config.default("YAPDNS_SQLITE_ROWID_CACHE"))
    caches = (default_threads() + 1) * cache_mib + CHECKPOINTER_MIB + rowids * ROWID_ENTRY_BYTES / 2**20
    caches += rollup.PENDING_MAX * ROLLUP_ENTRY_BYTES / 2**20
    assert caches + FIXED_MIB <= BUDGET_MIB, f"default caches allow {caches:.0f} MiB"


def test_the_budget_and_the_settings_that_trade_memory_for_speed_are_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "performance.md").read_text()
    memory = doc.partition("## Memory")[2]
    for name in ("YAPDNS_SQLITE_CACHE_MB", "YAPDNS_SQLITE_ROWID_CACHE", "--threads", "512 MiB"):
        assert name in memory
