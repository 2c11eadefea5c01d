"""compat: the DNSDB API v2 (``/dnsdb/v2/``) and CIRCL pDNS (``/pdns/query/``) compatible query APIs.

One sub-package per protocol (``dnsdb/``, ``circl/``), each with its
``views.py``; ``urls.py`` routes both. Models: per-token query quotas and
their counters (``models.py``, enforced by ``quota.py``). Tests:
``tests/server/compat/``.
"""

from django.apps import AppConfig


class CompatConfig(AppConfig):
    name = "yapdns.server.compat"
    label = "compat"
    verbose_name = "DNSDB and CIRCL compatible APIs"
