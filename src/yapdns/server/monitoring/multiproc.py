"""The metrics directory of ``yapdns serve``'s worker processes (prometheus_client's multiprocess mode).

prometheus_client decides at import time whether its values live in the
process or in files, from ``PROMETHEUS_MULTIPROC_DIR``: so this module
imports nothing of it, and ``prepare_multiprocess`` must run before
anything else does.
"""

from __future__ import annotations

import os
import shutil
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess() -> str:
    """Export an empty metrics directory for this server's workers (a given one is emptied) and return it."""
    existing = os.environ.get(ENV)
    if existing:
        shutil.rmtree(existing, ignore_errors=True)
        os.makedirs(existing, mode=0o700, exist_ok=True)
        return existing
    path = tempfile.mkdtemp(prefix="yapdns-metrics-")  # 0700
    os.environ[ENV] = path
    return path
