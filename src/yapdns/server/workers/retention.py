"""The retention job: ``YAPDNS_RETENTION_*`` applied to the record store every hour by ``yapdns worker``.

The same prune as ``yapdns prune`` (``storage/prune.py``): chunked, safe
while the server ingests, idempotent (a second run finds nothing more to
remove), so the worker's at-least-once delivery is harmless.
"""

from __future__ import annotations

import msgspec

from yapdns.server.store import get_store
from yapdns.server.workers.jobs import job
from yapdns.storage.prune import Prunable, RetentionPolicy


@job(retries=2, backoff=300)
def apply_retention() -> dict[str, int]:
    """Prune what the configured policy expires; return the counts per kind and per rule (``rule <label>``:
    the removed rows it applied to), empty when retention is off."""
    policy = RetentionPolicy.configured()
    store = get_store()
    if not policy.active or not isinstance(store, Prunable):
        return {}
    report = store.prune(policy)
    kinds = {k: v for k, v in msgspec.structs.asdict(report).items() if isinstance(v, int) and not isinstance(v, bool)}
    return {**kinds, **{f"rule {label}": n for label, n in report.by_rule.items()}}
