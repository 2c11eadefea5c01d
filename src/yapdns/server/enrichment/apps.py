"""enrichment: address context (ASN, AS name, routed prefix, country) for every address in the store.

``jobs.enrich_addresses`` (a periodic job of ``yapdns worker``) walks the
store's new addresses with each configured dataset (``yapdns.enrich``) and
keeps what they say as history in the record store; ``EnrichmentCursor``
(``models.py``) remembers how far each dataset got and which data it is.
``services.py`` picks the context "as of" a time for the API, CSV and the
dashboard; ``views.py`` serves ``/api/v1/context/<ip>`` and
``/api/v1/enrichment``. Tests: ``tests/server/enrichment/``.
"""

from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    name = "yapdns.server.enrichment"
    label = "enrichment"
    verbose_name = "Address enrichment"
