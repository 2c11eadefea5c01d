"""URL map of the compatible APIs (included at the site root by ``server/urls.py``).

The DNSDB catch-all routes on the raw path itself, so an encoded ``/``
inside a Flex regex cannot split a component; CIRCL captures the rest of
the path (a CIDR's ``/`` included).
"""

from django.urls import path, re_path

from yapdns.server.compat.circl import views as circl
from yapdns.server.compat.dnsdb import views as dnsdb

urlpatterns = [
    path("dnsdb/v2/ping", dnsdb.ping, name="dnsdb-ping"),
    path("dnsdb/v2/rate_limit", dnsdb.rate_limit, name="dnsdb-rate-limit"),
    re_path(r"^dnsdb(?:/[\s\S]*)?$", dnsdb.dispatch, name="dnsdb"),  # any character: a newline is the view's to refuse
    re_path(r"^pdns/query(?:/[\s\S]*)?$", circl.query, name="circl-query"),
]
