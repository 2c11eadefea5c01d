"""detection: watchlists and their alerts, and the exchange of pDNS with threat-intel tools (STIX 2.1, MISP).

Export (``stix.py``, ``misp.py``, ``export.py``) serves ``format=stix|misp``
of the query API; ``indicators.py`` reads watchlist indicators from lines,
CSV, STIX bundles and MISP events; ``tlp.py`` owns the TLP levels. Models
``WatchlistEntry``, ``Alert``, ``AlertComment``, ``AlertDelivery``;
``matching.py`` compiles the watchlist, ``live.py`` matches each committed
ingest batch (``asnmatch.py`` finds the AS of its addresses for ``asn``
entries), ``services.py`` folds matches into alerts and retro-hunts,
``delivery.py`` sends alerts (webhook, syslog, SMTP) from the outbox,
``nod.py`` reads newly observed names and registered domains from the
store's discovery order and ``streams.py`` serves them (list and NDJSON
stream); ``flux.py`` scores fast-flux, ``lexical.py`` and ``signals.py``
add domain age, DGA and re-pointing signals (``NameScore`` keeps the latest);
``jobs.py`` is the background jobs' entry point; ``views.py``
serves the watchlist and alert API (``urls.py``). Tests:
``tests/server/detection/``.
"""

from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "yapdns.server.detection"
    label = "detection"
    verbose_name = "Detection"
