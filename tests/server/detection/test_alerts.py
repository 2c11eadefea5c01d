"""Watchlists and alerts end to end: entries from the API and files, live matching at ingest, folding,
retro-hunt, the alert workflow, and the TLP of an entry travelling with an alert's export."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.server.conftest import auth, make_user
from tests.server.detection.conftest import KEEPS
from yapdns.core.model import Observation
from yapdns.server.detection import live, services
from yapdns.server.detection.indicators import IndicatorSpec
from yapdns.server.detection.matching import Hit
from yapdns.server.detection.models import Alert, AlertDelivery, WatchlistEntry
from yapdns.server.store import get_store
from yapdns.storage.base import BatchRef, Store, Then, WriteOutcome
from yapdns.storage.query import NameMatch, RecordQuery


def ingest(client: Client, token: str, batch: str, *records: dict[str, Any], fold: bool = True) -> dict[str, Any]:
    """POST a batch; then fold its kept matches into alerts, as the server's folding thread does (``fold``)."""
    body = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    reply = client.post("/api/v1/ingest", body, content_type="application/x-ndjson", HTTP_X_BATCH_ID=batch, **auth(token))
    assert reply.status_code == 200, reply.content
    if fold:
        services.fold_pending(get_store())
    return reply.json()


def rec(name: str, *rdata: str, rrtype: str = "A", first: int = 1_700_000_000, count: int = 1) -> dict[str, Any]:
    return {"rrname": name, "rrtype": rrtype, "rdata": list(rdata), "time_first": first, "time_last": first + 60, "count": count}


def add(client: Client, token: str, **entry: Any) -> dict[str, Any]:
    reply = client.post("/api/v1/watchlist", entry, content_type="application/json", **auth(token))
    assert reply.status_code == 201, reply.content
    return reply.json()["entry"]


@pytest.fixture(autouse=True)
def webhook_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAPDNS_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")  # queued, not sent, in these tests


@KEEPS
def test_live_matching_raises_folded_alerts_with_record_entry_sensor_and_times(
    client: Client, store: Store, sensor_token: str, query_token: str
) -> None:
    entry = add(client, query_token, value="*.evil.example", label="C2", tlp="amber")
    add(client, query_token, value="192.0.2.0/24")
    ingest(client, sensor_token, "b1", rec("c2.evil.example", "203.0.113.5", count=3), rec("benign.example", "198.51.100.1"))
    ingest(client, sensor_token, "b2", rec("c2.evil.example", "203.0.113.5", first=1_700_000_500, count=2))
    ingest(client, sensor_token, "b3", rec("other.example", "192.0.2.9"))
    alerts = client.get("/api/v1/alerts", **auth(query_token)).json()["alerts"]
    assert [(a["record"]["rrname"], a["entry"]["value"]) for a in alerts] == [
        ("other.example", "192.0.2.0/24"),
        ("c2.evil.example", "*.evil.example"),
    ]
    c2 = alerts[1]
    assert c2["record"] == {"rrname": "c2.evil.example", "rrtype": "A", "rdata": "203.0.113.5"}
    assert (c2["count"], c2["matches"], c2["time_first"], c2["time_last"]) == (5, 2, 1_700_000_000, 1_700_000_560)
    assert c2["sensor"] == "sensor-1" and c2["tlp"] == "amber" and c2["entry"]["id"] == entry["id"]
    assert AlertDelivery.objects.filter(channel="webhook", sent_at__isnull=True).count() == 2  # one per alert, queued


@KEEPS
def test_a_replayed_batch_is_matched_again_without_a_second_alert_or_count(client: Client, store: Store, sensor_token: str, query_token: str) -> None:
    add(client, query_token, value="evil.example")
    ingest(client, sensor_token, "same", rec("evil.example", "203.0.113.5", count=4))
    assert ingest(client, sensor_token, "same", rec("evil.example", "203.0.113.5", count=4))["replayed"]
    assert ingest(client, sensor_token, "same", rec("evil.example", "203.0.113.5", count=4), fold=False)["replayed"]
    services.fold_pending(store)  # the replay's match was kept already: counted once per (entry, record, batch)
    alert = Alert.objects.get()
    assert (alert.count, alert.matches) == (4, 1) == (stored_count(store, "evil.example"), 1)


@KEEPS
def test_matching_that_fails_never_fails_the_ingest(client: Client, store: Store, sensor_token: str, query_token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add(client, query_token, value="evil.example")

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the alert table is gone")

    monkeypatch.setattr(services, "log_matches", broken)
    before = live.MatchStats.failures
    assert ingest(client, sensor_token, "b", rec("evil.example", "203.0.113.5"))["accepted"] == 1
    assert live.MatchStats.failures == before + 1


def test_matching_can_be_switched_off(client: Client, store: Store, sensor_token: str, query_token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add(client, query_token, value="evil.example")
    monkeypatch.setenv("YAPDNS_WATCHLIST_MATCHING", "false")
    ingest(client, sensor_token, "b", rec("evil.example", "203.0.113.5"))
    assert Alert.objects.count() == 0


def test_file_import_and_retro_hunt_find_history(client: Client, store: Store, sensor_token: str, query_token: str) -> None:
    ingest(client, sensor_token, "old", rec("old.bad.example", "198.51.100.20"), rec("x.example", "198.51.100.21"))
    csv_text = "value,kind,label,tlp\n*.bad.example,name,old campaign,red\n198.51.100.21,ip,,\nnot..valid,name,,\n"
    reply = client.post("/api/v1/watchlist/import?format=csv", csv_text, content_type="text/csv", **auth(query_token)).json()
    assert reply["added"] == 2 and [s["where"] for s in reply["skipped"]] == ["line 4"]
    assert services.hunt_pending(store) == 2
    found = {(a.rrname, a.origin) for a in Alert.objects.all()}
    assert found == {("old.bad.example", "retro-hunt"), ("x.example", "retro-hunt")}
    assert sorted(WatchlistEntry.objects.values_list("hunt_found", flat=True)) == [1, 1]
    assert services.hunt_pending(store) == 0  # each entry is hunted once


@KEEPS
def test_alert_workflow_acknowledge_assign_comment_and_filter(client: Client, store: Store, sensor_token: str, query_token: str, analyst: User) -> None:
    add(client, query_token, value="evil.example")
    ingest(client, sensor_token, "b", rec("evil.example", "203.0.113.5"))
    alert_id = Alert.objects.get().pk
    make_user("bob")
    change = {"status": "acknowledged", "assignee": "bob", "comment": "looking <b>now</b>"}
    body = client.post(f"/api/v1/alerts/{alert_id}", change, content_type="application/json", **auth(query_token)).json()["alert"]
    assert (body["status"], body["assignee"]) == ("acknowledged", "bob")
    assert body["comments"][0]["text"] == "looking <b>now</b>" and body["comments"][0]["author"] == analyst.username
    assert client.get("/api/v1/alerts?status=open", **auth(query_token)).json()["alerts"] == []
    assert len(client.get("/api/v1/alerts?assignee=bob&q=evil", **auth(query_token)).json()["alerts"]) == 1
    bad = client.post(f"/api/v1/alerts/{alert_id}", {"status": "solved"}, content_type="application/json", **auth(query_token))
    assert bad.status_code == 400


def test_read_only_users_cannot_change_watchlists(client: Client, store: Store) -> None:
    from yapdns.server.accounts.services import create_query_token

    token = create_query_token(make_user("reader", "read-only"), "t")[1]
    reply = client.post("/api/v1/watchlist", {"value": "x.example"}, content_type="application/json", **auth(token))
    assert reply.status_code == 403
    assert client.get("/api/v1/watchlist", **auth(token)).status_code == 200


@KEEPS
def test_an_alert_exports_with_its_entrys_tlp(client: Client, store: Store, sensor_token: str, query_token: str) -> None:
    from tests.server.detection.test_export import stix_errors

    add(client, query_token, value="evil.example", tlp="red")
    ingest(client, sensor_token, "b", rec("evil.example", "203.0.113.5"))
    alert_id = Alert.objects.get().pk
    bundle = client.get(f"/api/v1/alerts/{alert_id}/export?format=stix", **auth(query_token))
    assert stix_errors(bundle.content.decode()) == []
    red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
    assert all(o.get("object_marking_refs") == [red] for o in bundle.json()["objects"] if o["type"] in ("relationship", "ipv4-addr"))
    event = client.get(f"/api/v1/alerts/{alert_id}/export?format=misp", **auth(query_token)).json()
    assert [t["name"] for t in event["Tag"]] == ["tlp:red"]


def test_bad_entries_are_400(client: Client, store: Store, query_token: str) -> None:
    for body in ({"value": "a..b"}, {"value": "x", "kind": "asn"}, {"value": "(", "kind": "regex"}, {"value": "x.example", "tlp": "pink"},
                 {"value": "x.example", "expires": "soon"}, {"nope": 1}):
        reply = client.post("/api/v1/watchlist", body, content_type="application/json", **auth(query_token))
        assert reply.status_code == 400, body


def test_hits_of_an_entry_deleted_elsewhere_are_dropped_not_fatal(db: None) -> None:
    kept = WatchlistEntry.objects.create(kind="name", value="*.evil.example")
    gone = WatchlistEntry.objects.create(kind="name", value="*.gone.example")
    hits = [Hit(e.pk, f"c2.{e.value[2:]}", "A", "203.0.113.5", "s1", 1_700_000_000, 1_700_000_000, 1)
            for e in (kept, gone)]
    WatchlistEntry.objects.filter(pk=gone.pk).delete()  # another process deleted it; this one's matcher has it
    [alert] = services.record_hits(hits)
    assert alert.entry_id == kept.pk and Alert.objects.count() == 1


def stored_count(store: Store, name: str) -> int:
    """The record's count as the store holds it (the figure an alert must not exceed by double counting)."""
    [record] = store.iter_records(RecordQuery(rrname=NameMatch.parse(name)))
    return record.count


def alert_count() -> int:
    [alert] = Alert.objects.all()
    return alert.count


@KEEPS
def test_a_hunt_after_live_matching_counts_the_record_once(client: Client, store: Store, sensor_token: str, query_token: str) -> None:
    entry = add(client, query_token, value="c2.evil.example")
    ingest(client, sensor_token, "live", rec("c2.evil.example", "203.0.113.5", count=3))
    assert alert_count() == 3  # live matching counted the observation
    assert services.hunt_pending(store) == 1  # the hunt finds the same record in history
    assert alert_count() == stored_count(store, "c2.evil.example") == 3
    for _ in range(2):  # hunting again, or another round, adds nothing
        services.retro_hunt(store, entry["id"])
        assert services.hunt_pending(store) == 0
    assert alert_count() == 3
    ingest(client, sensor_token, "more", rec("c2.evil.example", "203.0.113.5", count=2))
    services.retro_hunt(store, entry["id"])
    assert alert_count() == stored_count(store, "c2.evil.example") == 5


@KEEPS
def test_live_matching_after_a_hunt_adds_only_new_observations(client: Client, store: Store, sensor_token: str, query_token: str) -> None:
    ingest(client, sensor_token, "history", rec("c2.evil.example", "203.0.113.5", count=3))
    entry = add(client, query_token, value="c2.evil.example")
    assert services.hunt_pending(store) == 1 and alert_count() == 3
    ingest(client, sensor_token, "live", rec("c2.evil.example", "203.0.113.5", first=1_700_000_500, count=2))
    assert alert_count() == stored_count(store, "c2.evil.example") == 5
    services.retro_hunt(store, entry["id"])
    assert alert_count() == 5
    assert Alert.objects.get().matches == 3  # the hunt, the live match and the second hunt were each folded in


def keep_after_commit(observations: list[Observation], ref: BatchRef) -> None:
    """What the store's writer does with the live hook's matches of a committed batch, done here at a chosen
    moment."""
    then = live.live_matching().begin(observations, ref)
    assert isinstance(then, Then)
    then.hook.committed([(then.note, WriteOutcome(False, len(observations), 0))])


def test_a_batch_committed_during_a_hunt_and_matched_after_it_counts_once(store: Store, query_token: str) -> None:
    entry = services.add_entries([IndicatorSpec("name", "c2.evil.example")], None, "api")[0]
    history = Observation(rrname="c2.evil.example", rrtype="A", rdata=("203.0.113.5",), time_first=1_700_000_000,
                          time_last=1_700_000_000, count=3, sensor_id="s1")
    store.write([history], BatchRef("s1", "history"))
    late = msgspec.structs.replace(history, count=2)
    ref = BatchRef("s1", "late")
    store.write([late], ref)  # committed; its match is not kept yet (the moment between commit and match)
    services.retro_hunt(store, entry.pk)  # the hunt reads the record: 5, the late batch included
    assert alert_count() == 5
    keep_after_commit([late], ref)  # the late batch's match, kept after the hunt
    services.fold_pending(store)
    assert alert_count() == stored_count(store, "c2.evil.example") == 5  # not 7
    store.write([msgspec.structs.replace(history, count=4)], BatchRef("s1", "later"))
    keep_after_commit([msgspec.structs.replace(history, count=4)], BatchRef("s1", "later"))
    services.fold_pending(store)
    assert alert_count() == stored_count(store, "c2.evil.example") == 9  # a batch after the hunt adds


@pytest.mark.django_db(transaction=True)
def test_the_folding_thread_turns_kept_matches_into_alerts_off_the_request_path(store: Store) -> None:
    import time

    from yapdns.core.batch import DecodedBatch
    from yapdns.core.model import Observation
    from yapdns.ingest import IngestService

    services.add_entries([IndicatorSpec("name", "*.evil.example")], None, "api")
    service = IngestService(store, live.ingest_hooks())
    seen = Observation(rrname="c2.evil.example", rrtype="A", rdata=("203.0.113.5",), time_first=1_700_000_000,
                       time_last=1_700_000_000, count=2)
    for batch in ("one", "two", "two"):  # "two" again: a replay
        service.submit("s1", DecodedBatch(batch, [seen], []))
    assert (Alert.objects.count(), services.pending_matches()) == (0, 2)  # the requests only kept the matches
    folder = live.Folder(lambda: store, 0.05).start()
    deadline = time.monotonic() + 20
    while services.pending_matches() and time.monotonic() < deadline:
        time.sleep(0.05)
    folder.stop()
    alert = Alert.objects.get()
    assert (alert.count, alert.matches, folder.folded) == (4, 2, 2)
