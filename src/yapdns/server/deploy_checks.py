"""YAPDNS's own deployment checks, run with Django's by ``yapdns check --deploy``.

Django's deploy checks cover the secret key's strength, DEBUG, cookies, HSTS and the security headers; these
add what only YAPDNS knows: the data files' modes (databases with password hashes, token digests and
sessions; the generated secret key), the hosts the server answers to, and whether it is served over TLS.
Django's ``security.W008`` (redirect HTTP to HTTPS) is silenced in the settings in favour of ``yapdns.W012``:
redirecting is the TLS proxy's job, and with ``--certfile`` the port speaks only HTTPS. ``security.W021``
(HSTS preload) is an operator's commitment to the browsers' preload lists, not a default.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

from yapdns.config import DATA_FILES
from yapdns.core.private import exposed


@register(Tags.security, deploy=True)
def data_file_modes(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found = exposed(settings.DATA_DIR, DATA_FILES)
    if not found:
        return []
    return [
        Warning(
            "the data directory or its files are readable by group or others: " + ", ".join(found),
            hint=f"chmod 700 {settings.DATA_DIR} and chmod 600 the files in it (YAPDNS creates them so)",
            id="yapdns.W010",
        )
    ]


@register(Tags.security, deploy=True)
def allowed_hosts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "the server answers to any Host header (ALLOWED_HOSTS: " + ", ".join(settings.ALLOWED_HOSTS) + ")",
            hint="set YAPDNS_ALLOWED_HOSTS to the names clients use (docs/configuration.md)",
            id="yapdns.W011",
        )
    ]


@register(Tags.security, deploy=True)
def served_over_tls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SERVED_OVER_TLS:
        return []
    return [
        Warning(
            "the server is not configured for HTTPS: passwords, session cookies and tokens cross the network in clear",
            hint="serve with --certfile/--keyfile, or set YAPDNS_TLS=true behind a TLS proxy that sets "
            "X-Forwarded-Proto (docs/configuration.md, 'TLS')",
            id="yapdns.W012",
        )
    ]
