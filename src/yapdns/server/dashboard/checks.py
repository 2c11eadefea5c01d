"""A system check that warns when the dashboard's browser libraries were not installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.checks import CheckMessage, Warning, register

VENDOR = Path(__file__).resolve().parent / "static" / "dashboard" / "vendor"
VENDOR_FILES = ("echarts.min.js", "cytoscape.min.js")


def missing_assets() -> list[str]:
    """The vendored library files that are not in place."""
    return [name for name in VENDOR_FILES if not (VENDOR / name).is_file()]


@register()
def vendor_assets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    missing = missing_assets()
    if not missing:
        return []
    return [
        Warning(
            f"dashboard charts and graph need {', '.join(missing)}",
            hint="run scripts/build-dashboard-assets.sh (node 20 + npm) before serving",
            id="yapdns.W001",
        )
    ]
