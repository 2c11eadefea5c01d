"""The team's notes and tags on names and addresses, and their audit log.

This module is the only writer of ``Tag``, ``Note`` and ``AnnotationEvent``: each change and its audit event are
written in one transaction, so the log has every change with its user and time. Subjects are normalized (names
like the store's owner names, addresses in their canonical text), so a tag put on ``WWW.Example.com.`` is found
on ``www.example.com``. Tags are short lowercase words (``phishing``, ``c2``, ``apt:28``).
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from django.contrib.auth.models import User
from django.db import transaction

from yapdns.core.errors import InvalidName, InvalidQuery
from yapdns.core.names import normalize_name
from yapdns.server.dashboard.models import AnnotationEvent, Note, Tag

Kind = Literal["name", "ip"]
KINDS: tuple[Kind, ...] = ("name", "ip")
TAG = re.compile(r"[a-z0-9][a-z0-9._:-]{0,39}")
NOTE_MAX = 4000
EVENTS_SHOWN = 50


def subject_of(kind: str, value: str) -> tuple[Kind, str]:
    """``(kind, normalized subject)``; ``InvalidQuery`` for an unknown kind or a value that is not one."""
    if kind == "ip":
        try:
            return "ip", str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise InvalidQuery(f"not an IP address: {value[:60]!r}") from None
    if kind == "name":
        try:
            return "name", normalize_name(value)
        except InvalidName as exc:
            raise InvalidQuery(str(exc)) from None
    raise InvalidQuery("kind must be name or ip")


def clean_tag(text: str) -> str:
    tag = text.strip().lower()
    if not TAG.fullmatch(tag):
        raise InvalidQuery("a tag is 1 to 40 lowercase letters, digits and . _ : - (starting with a letter or digit)")
    return tag


def _log(user: User, action: str, kind: Kind, subject: str, detail: str) -> None:
    AnnotationEvent.objects.create(user=user, username=user.get_username(), action=action, kind=kind,
                                   subject=subject, detail=detail)


def add_tag(user: User, kind: Kind, subject: str, text: str) -> bool:
    """Tag a subject; False when it already had the tag (nothing logged)."""
    tag = clean_tag(text)
    with transaction.atomic():
        _, created = Tag.objects.get_or_create(kind=kind, subject=subject, tag=tag, defaults={"created_by": user})
        if created:
            _log(user, "tag+", kind, subject, tag)
    return created


def remove_tag(user: User, kind: Kind, subject: str, text: str) -> bool:
    tag = clean_tag(text)
    with transaction.atomic():
        deleted, _ = Tag.objects.filter(kind=kind, subject=subject, tag=tag).delete()
        if deleted:
            _log(user, "tag-", kind, subject, tag)
    return bool(deleted)


def add_note(user: User, kind: Kind, subject: str, text: str) -> Note:
    body = text.strip()
    if not body or len(body) > NOTE_MAX:
        raise InvalidQuery(f"a note is 1 to {NOTE_MAX} characters")
    with transaction.atomic():
        note = Note.objects.create(kind=kind, subject=subject, text=body, author=user)
        _log(user, "note+", kind, subject, body)
    return note


def delete_note(user: User, kind: Kind, subject: str, note_id: int) -> bool:
    with transaction.atomic():
        note = Note.objects.filter(pk=note_id, kind=kind, subject=subject).first()
        if note is None:
            return False
        note.delete()
        _log(user, "note-", kind, subject, note.text)
    return True


def tags_for(kind: Kind, subjects: Iterable[str]) -> dict[str, list[str]]:
    """The tags of each of ``subjects`` that has any (one query)."""
    found: dict[str, list[str]] = defaultdict(list)
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    for subject, tag in Tag.objects.filter(kind=kind, subject__in=wanted).order_by("tag").values_list("subject", "tag"):
        found[subject].append(tag)
    return dict(found)


def for_subject(kind: Kind, subject: str) -> dict[str, object]:
    """A subject's tags, notes and recent audit events, for its page."""
    return {
        "tags": list(Tag.objects.filter(kind=kind, subject=subject).order_by("tag").values_list("tag", flat=True)),
        "notes": list(Note.objects.filter(kind=kind, subject=subject).select_related("author")[:100]),
        "events": list(AnnotationEvent.objects.filter(kind=kind, subject=subject)[:EVENTS_SHOWN]),
        "kind": kind,
        "subject": subject,
    }


def tagged(tag: str, limit: int = 500) -> list[Tag]:
    """The subjects carrying ``tag``, most recently tagged first."""
    return list(Tag.objects.filter(tag=clean_tag(tag)).order_by("-created_at", "-id")[:limit])
