"""Notes and tags on names and addresses: shared, shown on pages and in results, searchable, audited (issue 20)."""

from __future__ import annotations

from django.test import Client

from tests.server.dashboard.test_pages import section
from yapdns.server.dashboard.models import AnnotationEvent, Note, Tag
from yapdns.storage.base import Store


def _post(client: Client, **form: str) -> int:
    return client.post("/annotate", form).status_code


def test_tags_and_notes_are_shared_shown_and_searchable(loaded: Store, analyst_client: Client,
                                                         reader_client: Client) -> None:
    assert _post(analyst_client, kind="name", subject="WWW.Example.com.", action="tag+", tag="Phishing") == 302
    assert _post(analyst_client, kind="ip", subject="192.0.2.11", action="tag+", tag="c2") == 302
    assert _post(analyst_client, kind="name", subject="www.example.com", action="note+",
                 text="Seen in <b>campaign</b> 42\nsecond line") == 302
    page = reader_client.get("/domain/www.example.com").content.decode()  # another user sees them
    notes = section(page, "notes")
    assert ">phishing</a>" in notes and "Seen in &lt;b&gt;campaign&lt;/b&gt; 42<br>second line" in notes
    assert 'id="tag-form"' not in notes  # a read-only user cannot change them
    results = section(reader_client.get("/search", {"q": "*.example.com"}).content.decode(), "results")
    assert '<span class="tag-chip small">phishing</span>' in results
    assert '<span class="tag-chip small">c2</span>' in section(
        reader_client.get("/search", {"q": "192.0.2.0/24"}).content.decode(), "results")
    tagged = section(reader_client.get("/search", {"q": "tag:phishing"}).content.decode(), "tag-results")
    assert 'title="www.example.com"' in tagged and "ana" in tagged


def test_every_change_is_in_the_audit_log(loaded: Store, analyst_client: Client, reader_client: Client) -> None:
    _post(analyst_client, kind="name", subject="example.com", action="tag+", tag="watch")
    _post(analyst_client, kind="name", subject="example.com", action="tag+", tag="watch")  # no change, no event
    _post(analyst_client, kind="name", subject="example.com", action="tag-", tag="watch")
    _post(analyst_client, kind="name", subject="example.com", action="note+", text="n1")
    note = Note.objects.get(text="n1")
    _post(analyst_client, kind="name", subject="example.com", action="note-", note=str(note.pk))
    events = list(AnnotationEvent.objects.order_by("at", "id").values_list("username", "action", "subject", "detail"))
    assert events == [("ana", "tag+", "example.com", "watch"), ("ana", "tag-", "example.com", "watch"),
                      ("ana", "note+", "example.com", "n1"), ("ana", "note-", "example.com", "n1")]
    log = section(reader_client.get("/annotations").content.decode(), "audit-log")
    assert log.count("<tr>") == 5 and "tag removed" in log and "note deleted" in log


def test_changes_are_validated_and_need_a_role(loaded: Store, analyst_client: Client, reader_client: Client) -> None:
    assert _post(reader_client, kind="name", subject="example.com", action="tag+", tag="x") == 403
    for bad in ({"kind": "url", "subject": "x", "action": "tag+", "tag": "a"},
                {"kind": "ip", "subject": "999.1.1.1", "action": "tag+", "tag": "a"},
                {"kind": "name", "subject": "example.com", "action": "tag+", "tag": "<script>"},
                {"kind": "name", "subject": "example.com", "action": "tag+", "tag": "x" * 41},
                {"kind": "name", "subject": "example.com", "action": "note+", "text": " "},
                {"kind": "name", "subject": "example.com", "action": "note+", "text": "x" * 4001},
                {"kind": "name", "subject": "example.com", "action": "note-", "note": "1e3"},
                {"kind": "name", "subject": "example.com", "action": "drop"}):
        assert _post(analyst_client, **bad) == 400, bad
    assert analyst_client.get("/annotate").status_code == 405
    assert reader_client.get("/search", {"q": "tag:<b>"}).status_code == 400
    assert reader_client.get("/annotations", {"page": "0"}).status_code == 400
    assert not Tag.objects.exists() and not AnnotationEvent.objects.exists()
