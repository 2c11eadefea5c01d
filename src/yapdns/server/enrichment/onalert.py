"""Ask upstream about every new watchlist alert (opt-in): the ``upstream-on-alerts`` periodic job.

``YAPDNS_UPSTREAM_ON_ALERT`` names the connectors to ask (empty: none, the
default). Each run reads the alerts created since the last one (by id, from
the ``JobCursor`` row ``upstream-on-alerts``, at most ``PAGE``) and asks each
named connector about the watched thing: the address for an IP/CIDR entry,
else the record's name. It goes through ``upstream.ask``, so the cache, the
daily quota and the ``imported`` evidence labelled ``upstream/<connector>``
hold as for a question from the dashboard; the ledger says ``watchlist alert
#<id>``. A connector whose quota is used up, or that fails, is skipped for
the rest of the run (counted, logged); the alerts are not asked again. While
the setting is empty the cursor follows the newest alert, so turning it on
asks about alerts from then on, not about the backlog.
"""

from __future__ import annotations

import logging

from yapdns import config
from yapdns.core.errors import InvalidQuery, YapdnsError
from yapdns.server.detection.models import Alert, JobCursor
from yapdns.server.enrichment import upstream
from yapdns.server.workers.jobs import job

CURSOR = "upstream-on-alerts"
PAGE = 50  # alerts one run asks about at most; the rest wait for the next run
log = logging.getLogger(__name__)


def connectors() -> list[str]:
    """The connectors named in ``YAPDNS_UPSTREAM_ON_ALERT``, in order, without repeats."""
    return list(dict.fromkeys(n.strip() for n in config.get("YAPDNS_UPSTREAM_ON_ALERT").split(",") if n.strip()))


def question(alert: Alert) -> str:
    """What to ask about an alert: its address for an IP/CIDR entry, else its name."""
    return alert.rdata if alert.entry.kind == "ip" else alert.rrname


@job(retries=3, backoff=30)
def ask_upstream_on_alerts() -> int:
    """Ask the configured connectors about the alerts created since the last run; return the questions asked."""
    cursor, _ = JobCursor.objects.get_or_create(name=CURSOR, defaults={"value": "0"})
    names = connectors()
    if not names:
        newest = Alert.objects.order_by("-id").values_list("id", flat=True).first()
        if newest is not None and str(newest) != cursor.value:
            cursor.value = str(newest)
            cursor.save(update_fields=["value", "updated_at"])
        return 0
    alerts = list(Alert.objects.filter(id__gt=int(cursor.value or 0)).select_related("entry").order_by("id")[:PAGE])
    asked, skipped = 0, set[str]()
    for alert in alerts:
        for name in names:
            if name in skipped:
                continue
            try:
                upstream.ask(name, question(alert), by=f"watchlist alert #{alert.pk}")
                asked += 1
            except YapdnsError as exc:  # quota used up, not configured, upstream failed, not askable
                log.warning("upstream %s on alert #%s: %s", name, alert.pk, exc)
                if not isinstance(exc, InvalidQuery):  # this alert's name cannot be asked: the next can
                    skipped.add(name)
        cursor.value = str(alert.pk)
        cursor.save(update_fields=["value", "updated_at"])
    return asked
