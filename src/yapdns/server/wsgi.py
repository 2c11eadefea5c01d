"""The WSGI application served by ``yapdns serve``."""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler

from yapdns.server.setup import setup_django

setup_django()
application = WSGIHandler()
