"""The dashboard's alerts and watchlist pages: filter, workflow, link to the record, entries from a form
and from a file; read-only users see but cannot act; everything escaped."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.server.conftest import make_user
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.server.detection import services
from yapdns.server.detection.matching import Hit
from yapdns.server.detection.models import Alert, WatchlistEntry
from yapdns.storage.base import BatchRef, Store


@pytest.fixture
def alert(store: Store) -> Alert:
    store.write([normalize_observation(Observation(rrname="c2.evil.example", rrtype="A", rdata=("203.0.113.5",),
                                                   time_first=1_700_000_000, time_last=1_700_000_060, count=4))],
                BatchRef("edge", "b"))
    entry = WatchlistEntry.objects.create(kind="name", value="*.evil.example", label="<script>C2</script>", tlp="amber")
    services.record_hits([Hit(entry.pk, "c2.evil.example", "A", "203.0.113.5", "edge", 1_700_000_000, 1_700_000_060, 4)])
    return Alert.objects.get()


def test_alerts_page_filters_links_to_the_record_and_escapes(client: Client, alert: Alert, analyst: User) -> None:
    client.force_login(analyst)
    page = client.get("/alerts").content.decode()
    assert "<script>C2" not in page and "&lt;script&gt;C2" in page and "TLP:AMBER" in page
    link = html.unescape(re.search(r'href="(/record\?[^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert client.get(link).status_code == 200
    assert "No alerts match this filter" in client.get("/alerts?status=closed").content.decode()
    assert 'id="alert-' in client.get("/alerts?q=evil&status=open").content.decode()
    assert 'id="alert-' in client.get(f"/alerts?entry={alert.entry_id}").content.decode()
    assert "No alerts match" in client.get(f"/alerts?entry={alert.entry_id + 1}").content.decode()


def test_alert_workflow_from_the_page(client: Client, alert: Alert, analyst: User) -> None:
    client.force_login(analyst)
    for action in ("acknowledge", "assign"):
        assert client.post("/alerts", {"alert": alert.pk, "action": action, "back": "/alerts?status=open"}).status_code == 302
    client.post("/alerts", {"alert": alert.pk, "action": "comment", "comment": "on it"})
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.assignee == analyst
    assert [c.text for c in alert.comments.all()] == ["on it"]
    assert client.post("/alerts", {"alert": "x", "action": "close"}).status_code == 404
    assert client.post("/alerts", {"alert": alert.pk, "action": "explode"}).status_code == 400


def test_read_only_users_see_but_cannot_act(client: Client, alert: Alert) -> None:
    client.force_login(make_user("reader", "read-only"))
    page = client.get("/alerts").content.decode()
    assert "c2.evil.example" in page and "Acknowledge" not in page
    assert client.post("/alerts", {"alert": alert.pk, "action": "close"}).status_code == 403
    assert client.post("/watchlist", {"action": "add", "value": "x.example"}).status_code == 403


def test_watchlist_page_adds_entries_from_the_form_and_a_file(client: Client, store: Store, analyst: User) -> None:
    client.force_login(analyst)
    page = client.post("/watchlist", {"action": "add", "value": "*.bad.example", "label": "campaign", "tlp": "red"})
    assert page.status_code == 200 and "Watching name *.bad.example" in page.content.decode()
    upload = SimpleUploadedFile("list.txt", b"192.0.2.0/24\nbad..name\n", content_type="text/plain")
    page = client.post("/watchlist", {"action": "upload", "format": "lines", "file": upload}).content.decode()
    assert "Added 1 entries, skipped 1." in page and "line 2" in page
    assert sorted(WatchlistEntry.objects.values_list("value", flat=True)) == ["*.bad.example", "192.0.2.0/24"]
    bad = client.post("/watchlist", {"action": "add", "value": "(", "kind": "regex"})
    assert bad.status_code == 400 and "not a valid regex" in bad.content.decode()
    entry = WatchlistEntry.objects.get(value="*.bad.example")
    client.post("/watchlist", {"action": "delete", "entry": entry.pk})
    assert not WatchlistEntry.objects.filter(pk=entry.pk).exists()
