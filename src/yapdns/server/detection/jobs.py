"""The detection app's background jobs, as plain functions with one entry point each.

``run_jobs(store)`` runs one round: the retro-hunt of entries not hunted
yet (``services.hunt_pending``), the NOD watch (``nod_watch``: newly
observed names under a ``nod`` entry's suffix raise alerts, origin
``nod``, read from a cursor kept in ``JobCursor``) and the delivery of due
alerts (``delivery.deliver_pending``), and the rescoring of every signal of
names that got new addresses, their CNAME aliases, and newly observed names
of any type (``rescore``, ``signals.py``; cursors in ``JobCursor``).

``yapdns worker`` runs them as two periodic jobs (``workers/schedule.py``):
``watch_round`` (hunts, NOD watch, rescoring) and ``deliver_alerts`` (folding
kept live matches, ``services.fold_pending``, then the outbox), each
enqueued by one worker at a time and never while its last run is pending.
``yapdns detection jobs`` runs the same rounds in a loop for deployments
without a worker, and may run beside workers: each delivery is claimed
before it is sent (``delivery.claim``), so no two runners send one alert,
and folds are one alert transaction at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yapdns.server.detection import delivery, flux, nod, services, signals
from yapdns.server.detection.matching import Hit
from yapdns.server.detection.models import JobCursor, NameScore
from yapdns.server.store import get_store
from yapdns.server.workers.jobs import job
from yapdns.storage.base import Store
from yapdns.storage.query import NameMatch, RecordQuery, TimeFence, TypeFilter

NOD_CURSOR = "nod-watch"
FLUX_CURSOR = "flux-rescore"
SIGNALS_CURSOR = "signals-discover"
RESCORE_MAX = 2000  # names one round rescores at most (the rest wait for the next round)
ALIASES_MAX = 50  # CNAME aliases of one re-addressed name rescored with it


@dataclass(frozen=True)
class JobReport:
    """What one round did."""

    hunted: int
    nod_alerts: int
    rescored: int
    sent: int
    failed: int


def run_jobs(store: Store) -> JobReport:
    """One round: fold kept live matches, retro-hunts, NOD watch, rescoring and alert deliveries."""
    services.fold_pending(store)
    hunted = services.hunt_pending(store)
    nod_alerts = nod_watch(store)
    rescored = rescore(store)
    sent, failed = delivery.deliver_pending()
    return JobReport(hunted, nod_alerts, rescored, sent, failed)


@job(retries=2, backoff=30)
def watch_round() -> dict[str, int]:
    """The worker's periodic detection round: retro-hunts, NOD watch and signal rescoring."""
    store = get_store()
    return {"hunted": services.hunt_pending(store), "nod_alerts": nod_watch(store), "rescored": rescore(store)}


@job(retries=0)
def deliver_alerts() -> dict[str, int]:
    """The worker's periodic folding of kept live matches into alerts (after a crash, or where no server folds
    them), then delivery of due alerts (a failed send is retried by the outbox, not the job)."""
    folded = services.fold_pending(get_store())
    sent, failed = delivery.deliver_pending()
    return {"folded": folded, "sent": sent, "failed": failed}


def rescore(store: Store, limit: int = RESCORE_MAX) -> int:
    """Recompute the signals of the names whose signals may have changed since the last round; the number rescored.

    Those are: names that got a new A/AAAA record or CNAME target (flux, re-pointing), the names whose CNAME
    points at one of them (their flux and re-pointing follow the target, ``flux.py``, ``signals.py``), and names
    newly observed with records of any type (their lexical signals and domain age: a CNAME-only or NS-only name is
    scored when it appears).
    """
    readdressed = _readdressed(store, limit)
    names = dict.fromkeys(readdressed)
    for name in readdressed:
        if len(names) >= limit:
            break
        names.update(dict.fromkeys(_aliases(store, name)))
    names.update(dict.fromkeys(_discovered(store, max(limit - len(names), 0))))
    for name in names:
        save_score(signals.name_signals(store, name))
    return len(names)


def _readdressed(store: Store, limit: int) -> list[str]:
    """Names that got a new A/AAAA record or CNAME target since the flux cursor (moved past them)."""
    row, _ = JobCursor.objects.get_or_create(name=FLUX_CURSOR, defaults={"value": "0"})
    after = int(row.value or 0)
    names: dict[str, None] = {}
    while len(names) < limit:
        found, reached = store.readdressed(after, nod.SCAN)
        names.update(dict.fromkeys(found))
        if reached == after:
            break
        after = reached
    JobCursor.objects.filter(pk=row.pk).update(value=str(after))
    return list(names)


def _aliases(store: Store, target: str) -> list[str]:
    """Names seen in the flux window with a CNAME to ``target`` (at most ``ALIASES_MAX``)."""
    since = int(time.time()) - flux.WINDOW
    query = RecordQuery(rdata_name=NameMatch("exact", target), types=TypeFilter.parse("CNAME"),
                        fence=TimeFence(last_after=since), limit=ALIASES_MAX)
    return [r.rrname for r in store.records(query).rows]


def _discovered(store: Store, limit: int) -> list[str]:
    """Names newly observed (records of any type) since the discovery cursor (moved past them)."""
    row, _ = JobCursor.objects.get_or_create(name=SIGNALS_CURSOR, defaults={"value": "0"})
    after = int(row.value or 0)
    names: dict[str, None] = {}
    while len(names) < limit:
        page = store.discoveries(after, nod.SCAN)
        names.update(dict.fromkeys(d.rrname for d in page.rows))
        if page.scanned_to == after:
            break
        after = page.scanned_to
    JobCursor.objects.filter(pk=row.pk).update(value=str(after))
    return list(names)


def save_score(result: signals.Signals) -> None:
    """Keep a name's latest signals (``signals.py``) for the suspicious listing and search results."""
    f, lex, age = result.flux, result.lexical, result.age
    NameScore.objects.update_or_create(
        name=result.name,
        defaults={
            "score": f.score, "flux": f.flux, "n_addresses": f.n_a, "n_networks": f.n_asn, "n_ns": f.n_ns,
            "ttl_min": f.ttl_min, "asn_basis": f.basis_label, "domain_age": age.age, "young": age.young,
            "entropy": lex.entropy, "bigram": lex.bigram, "dga": lex.dga, "repointed": result.repointing.repointed,
            "new_as": "\n".join(result.repointing.new_as)[:300], "suspicious": result.suspicious,
        },
    )


def nod_watch(store: Store) -> int:
    """Alerts for names discovered since the last round under a ``nod`` entry's suffix; the number raised.

    The first round starts at the store's current end: names discovered
    before the watch ran are history, not news.
    """
    row, created = JobCursor.objects.get_or_create(name=NOD_CURSOR, defaults={"value": ""})
    after = _store_end(store) if created else nod.parse_cursor(row.value)
    matcher = services.live_matcher()
    hits: list[Hit] = []
    for step in nod.scan(store, nod.NodQuery(), after):
        if isinstance(step, int):
            after = step
            continue
        for entry in matcher.nod_entries(step.name):
            hits.append(Hit(entry, step.name, "NOD", step.name, "", step.first_seen, step.last_seen, step.records))
    created_alerts = services.record_hits(hits, origin="nod") if hits else []
    JobCursor.objects.filter(pk=row.pk).update(value=nod.cursor_of(after))
    return len(created_alerts)


def restart_cursors(store: Store) -> int:
    """Point the NOD watch and the flux rescoring at ``store``'s end (after switching to a copied store, whose
    sequence numbers are not the old store's: its history is not news); the sequence number set."""
    end = _store_end(store)
    JobCursor.objects.update_or_create(name=NOD_CURSOR, defaults={"value": nod.cursor_of(end)})
    JobCursor.objects.update_or_create(name=FLUX_CURSOR, defaults={"value": str(end)})
    JobCursor.objects.update_or_create(name=SIGNALS_CURSOR, defaults={"value": str(end)})
    return end


def _store_end(store: Store) -> int:
    after = 0
    while True:
        page = store.discoveries(after, nod.SCAN)
        if page.scanned_to == after:
            return after
        after = page.scanned_to
