"""Notes and tags: the POST that changes them (analysts and admins) and the audit log page (everyone)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from yapdns.core.errors import InvalidQuery
from yapdns.server.accounts.roles import can_annotate
from yapdns.server.dashboard import tagging
from yapdns.server.dashboard.models import AnnotationEvent
from yapdns.server.dashboard.views.common import problem, requires
from yapdns.server.security import methods

LOG_PAGE = 100


@methods("POST")
@requires(can_annotate, "change notes and tags")
def annotate(request: HttpRequest) -> HttpResponse:
    """``POST /annotate``: ``action`` ``tag+``/``tag-`` (``tag``), ``note+`` (``text``) or ``note-`` (``note``) on
    ``kind``/``subject``; back to the subject's page."""
    form = request.POST
    try:
        kind, subject = tagging.subject_of(form.get("kind", ""), form.get("subject", ""))
        action = form.get("action", "")
        if action == "tag+":
            tagging.add_tag(request.user, kind, subject, form.get("tag", ""))  # type: ignore[arg-type]
        elif action == "tag-":
            tagging.remove_tag(request.user, kind, subject, form.get("tag", ""))  # type: ignore[arg-type]
        elif action == "note+":
            tagging.add_note(request.user, kind, subject, form.get("text", ""))  # type: ignore[arg-type]
        elif action == "note-":
            note = form.get("note", "")
            if not (note.isascii() and note.isdigit() and len(note) <= 18):
                raise InvalidQuery("note must be a note's number")
            tagging.delete_note(request.user, kind, subject, int(note))  # type: ignore[arg-type]
        else:
            raise InvalidQuery("action must be tag+, tag-, note+ or note-")
    except InvalidQuery as exc:
        return problem(request, 400, "Not changed", str(exc))
    page = reverse("dashboard:ip", args=[subject]) if kind == "ip" else reverse("dashboard:domain", args=[subject])
    return redirect(f"{page}#notes")


def annotation_log(request: HttpRequest) -> HttpResponse:
    """``/annotations``: every change to notes and tags, newest first, 100 a page."""
    events = Paginator(AnnotationEvent.objects.all(), LOG_PAGE)
    page_text = request.GET.get("page") or "1"
    valid = page_text.isascii() and page_text.isdigit() and len(page_text) <= 9
    if not valid or not 1 <= int(page_text) <= max(events.num_pages, 1):
        return problem(request, 400, "No such page", f"pages run from 1 to {max(events.num_pages, 1)}")
    page = events.page(int(page_text))
    return render(request, "dashboard/annotations.html", {"events": page})
