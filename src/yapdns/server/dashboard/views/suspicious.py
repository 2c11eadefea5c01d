"""The suspicious names page: names the scoring job last scored as fast-flux, highest score first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.server.detection.flux import BIAS, W_A, W_NET
from yapdns.server.detection.models import NameScore

PAGE = 200


def suspicious_page(request: HttpRequest) -> HttpResponse:
    """``/suspicious``."""
    rows = list(NameScore.objects.filter(flux=True)[:PAGE])
    return render(request, "dashboard/suspicious.html", {"rows": rows, "weights": (W_A, W_NET, BIAS)})
