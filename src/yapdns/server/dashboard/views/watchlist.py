"""The watchlist page: entries with their retro-hunt results; analysts and admins add one, upload a file
(lines, CSV, STIX 2.1 bundle, MISP event) or delete an entry, and import a STIX bundle's or MISP event's
resolutions as evidence (``detection/evidence.py``), under ``import`` or a registered, active sensor."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.server.accounts.roles import can_manage_sensors
from yapdns.server.dashboard.views.common import problem
from yapdns.server.detection import evidence, indicators, services
from yapdns.server.detection.models import KIND_CHOICES, TLP_CHOICES, WatchlistEntry
from yapdns.server.detection.tlp import UnknownTlp
from yapdns.server.detection.views import READERS, read_upload
from yapdns.server.security import methods
from yapdns.server.sensors.models import Sensor

PAGE = 500


@methods("GET", "POST")
def watchlist_page(request: HttpRequest) -> HttpResponse:
    """``/watchlist``; POST ``action`` = ``add`` | ``upload`` | ``delete``."""
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        if not can_manage_sensors(request.user):
            return problem(request, 403, "Not allowed", "Your role may not change watchlists.")
        try:
            context["message"] = _act(request)
        except (indicators.BadIndicator, UnknownTlp, evidence.BadEvidence) as exc:
            context["error"], status = str(exc), 400
    context.update(
        entries=WatchlistEntry.objects.select_related("owner")[:PAGE],
        kinds=KIND_CHOICES,
        tlps=TLP_CHOICES,
        formats=list(READERS),
        evidence_formats=evidence.FORMATS,
        evidence_sensors=[s.name for s in Sensor.objects.filter(revoked_at__isnull=True)],
        can_act=can_manage_sensors(request.user),
        form=request.POST if status == 400 else {},
    )
    return render(request, "dashboard/watchlist.html", context, status=status)


def _act(request: HttpRequest) -> str:
    user: User = request.user  # type: ignore[assignment]
    action = request.POST.get("action")
    if action == "delete":
        entry_id = request.POST.get("entry", "")
        if not (entry_id.isdigit() and services.delete_entry(int(entry_id))):
            raise indicators.BadIndicator("no such watchlist entry")
        return "Entry deleted."
    if action == "upload":
        upload = request.FILES.get("file")
        if upload is None:
            raise indicators.BadIndicator("choose a file to upload")
        found, skipped = read_upload(upload.read(read_upload_max()), request.POST.get("format", "lines"), _tlp(request))
        services.add_entries(found, user, request.POST.get("format", "lines"))
        notes = "; ".join(f"{s.where}: {s.reason}" for s in skipped[:5])
        return f"Added {len(found)} entries, skipped {len(skipped)}." + (f" {notes}" if notes else "")
    if action == "evidence":
        upload = request.FILES.get("file")
        if upload is None:
            raise indicators.BadIndicator("choose a file to import")
        sensor = evidence.upload_sensor(request.POST.get("sensor") or None)
        report = evidence.import_evidence(request.POST.get("format", ""), upload.read(evidence.UPLOAD_MAX + 1), sensor)
        samples = "; ".join(s["message"] for s in report.samples[:5])
        return f"Evidence from {upload.name}: {report.summary()}" + (f" {samples}" if samples else "")
    if action == "add":
        post = request.POST
        kind = post.get("kind", "")
        args = (post.get("value", ""), post.get("label", ""), _tlp(request), post.get("expires") or None)
        spec = indicators.check(kind, *args) if kind else indicators.guess(*args)
        services.add_entries([spec], user, "dashboard")
        return f"Watching {spec.kind} {spec.value}; history is hunted in the background."
    raise indicators.BadIndicator("unknown action")


def _tlp(request: HttpRequest) -> str | None:
    return request.POST.get("tlp") or None


def read_upload_max() -> int:
    """Bytes of an upload read (one more than allowed, so an oversized file is refused, not cut)."""
    from yapdns.server.detection.views import BODY_MAX

    return BODY_MAX + 1
