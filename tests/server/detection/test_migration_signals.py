"""Migration 0004: scores kept before it (fast-flux only) stay in the suspicious listing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("detection", "0003_name_score")]
AFTER = [("detection", "0004_name_signals_and_asn_entries")]


@pytest.mark.django_db(transaction=True)
def test_flux_scores_kept_before_stay_suspicious() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("detection", "NameScore")
    for name, flux in (("ff.example", True), ("calm.example", False)):
        old.objects.create(name=name, score=1.0 if flux else -1.0, flux=flux, n_addresses=1, n_networks=1, n_ns=0)
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("detection", "NameScore")
    assert dict(new.objects.values_list("name", "suspicious")) == {"ff.example": True, "calm.example": False}
    assert set(new.objects.values_list("asn_basis", flat=True)) == {"network"}  # they were counted by network
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
