"""The suspicious names page: names the scoring job last found fast-flux, DGA-like or re-pointed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.server.detection.flux import BIAS, W_A, W_ASN
from yapdns.server.detection.views import SIGNAL_FILTERS, suspicious_rows

PAGE = 200


def suspicious_page(request: HttpRequest) -> HttpResponse:
    """``/suspicious?signal=``: every suspicious name, or those with one signal (flux, dga, repointed, young)."""
    signal = request.GET.get("signal", "")
    rows = list(suspicious_rows(signal if signal in SIGNAL_FILTERS else "")[:PAGE])
    return render(request, "dashboard/suspicious.html",
                  {"rows": rows, "weights": (W_A, W_ASN, BIAS), "signal": signal, "signals": SIGNAL_FILTERS})
