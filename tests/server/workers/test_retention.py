"""The worker's retention job prunes by the configured policy, and does nothing when retention is off."""

from __future__ import annotations

import pytest

from tests.storage.builders import obs
from yapdns.server.workers.retention import apply_retention
from yapdns.server.workers.schedule import PERIODIC
from yapdns.storage.base import Store

OLD = 1_600_000_000


def test_the_job_applies_the_configured_policy(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write([obs("old.example", "A", "192.0.2.1", first=OLD), obs("older.example", "A", "192.0.2.2", first=OLD)])
    assert apply_retention.call() == {}  # YAPDNS_RETENTION_DAYS=0: kept for ever
    monkeypatch.setenv("YAPDNS_RETENTION_DAYS", "30")
    done = apply_retention.call()
    assert done["records"] == 1  # the row holding the highest id goes in a later run (storage/prune.py)
    assert apply_retention.call()["records"] == 0  # idempotent: a replayed job removes nothing more
    assert store.stats().records == 1


def test_the_job_is_scheduled() -> None:
    assert "yapdns.server.workers.retention.apply_retention" in {p.task for p in PERIODIC}


def test_the_job_follows_the_rules(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write([obs("lab.example", "A", "192.0.2.1", first=OLD, sensor="lab"),
                 obs("kept.example", "A", "192.0.2.2", first=OLD, sensor="s1")])
    store.write([obs("top.example", "A", "192.0.2.3")])  # the highest id
    monkeypatch.setenv("YAPDNS_RETENTION_RULES", "sensor:lab=30")  # YAPDNS_RETENTION_DAYS=0: others for ever
    done = apply_retention.call()
    assert (done["records"], done["rule sensor:lab=30"]) == (1, 1)
    assert store.stats().records == 2
