"""The dashboard's URLs (pages at the site root) and the pivot graph's JSON endpoint."""

from django.urls import path

from yapdns.server.dashboard import auth
from yapdns.server.dashboard.views import (
    alerts,
    bulk,
    domain,
    ip,
    manage,
    nod,
    notes,
    overview,
    pivot,
    record,
    search,
    suspicious,
    upstream,
    watchlist,
)

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview_page, name="overview"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("search", search.search_page, name="search"),
    path("bulk", bulk.bulk_page, name="bulk"),
    path("annotate", notes.annotate, name="annotate"),
    path("annotations", notes.annotation_log, name="annotations"),
    path("domain/<path:name>", domain.domain_page, name="domain"),
    path("ip/<str:addr>", ip.ip_page, name="ip"),
    path("pivot", pivot.pivot_page, name="pivot"),
    path("alerts", alerts.alerts_page, name="alerts"),
    path("nod", nod.nod_page, name="nod"),
    path("suspicious", suspicious.suspicious_page, name="suspicious"),
    path("watchlist", watchlist.watchlist_page, name="watchlist"),
    path("record", record.record_page, name="record"),
    path("upstream/ask", upstream.ask_upstream, name="ask-upstream"),
    path("manage/sensors", manage.sensors_page, name="sensors"),
    path("manage/sensors/<str:name>", manage.sensor_page, name="sensor"),
    path("manage/tokens", manage.tokens_page, name="tokens"),
    path("manage/users", manage.users_page, name="users"),
    path("manage/users/<int:user_id>", manage.user_action, name="user-action"),
    path("api/v1/pivot", pivot.pivot_api, name="pivot-api"),
]
