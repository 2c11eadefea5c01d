"""What every dashboard page knows about its viewer: role, permissions, version, asset state."""

from __future__ import annotations

from django.http import HttpRequest

from yapdns import __version__
from yapdns.server.accounts.roles import can_annotate, can_manage_sensors, can_manage_users, role_of
from yapdns.server.dashboard.checks import missing_assets

RECORD_COLUMNS = (
    ("rrname", "Name"),
    ("rrtype", "Type"),
    ("rdata", "Rdata"),
    ("time_first", "First seen"),
    ("time_last", "Last seen"),
    ("count", "Count"),
)


def viewer(request: HttpRequest) -> dict[str, object]:
    """Template context processor (see settings.TEMPLATES)."""
    user = request.user
    return {
        "role": role_of(user),
        "can_manage_sensors": can_manage_sensors(user),
        "can_manage_users": can_manage_users(user),
        "can_annotate": can_annotate(user),
        "assets_missing": missing_assets(),
        "yapdns_version": __version__,
        "record_columns": RECORD_COLUMNS,
    }
