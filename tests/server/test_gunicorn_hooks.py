"""What ``yapdns serve``'s gunicorn master does before it forks (the workers share the lexical model it built, so
no worker's first domain page pays for it: about 1 s of CPU, docs/performance.md), and what a worker loads before
its first request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from yapdns.server.detection import lexical
from yapdns.server.gunicorn_app import server_hooks


def test_the_master_builds_the_lexical_model_before_forking() -> None:
    hooks = server_hooks("", json_logs=False)
    lexical.model.cache_clear()
    hooks["on_starting"](None)
    assert lexical.model.cache_info().currsize == 1
    before = lexical.model.cache_info().hits
    assert lexical.lexical("www.qxhgrtpwkzvb.com").dga
    assert lexical.model.cache_info().hits > before  # the page's signal used the master's model, not a new one


def test_a_worker_imports_its_views_before_its_first_request(tmp_path: Path) -> None:
    """In a fresh interpreter (this one has imported every view already): after ``post_worker_init`` the
    dashboard's views are loaded, so the first request does not wait for them."""
    script = (
        "import sys\n"
        "from yapdns.server.setup import setup_django\n"
        "setup_django()\n"
        "from yapdns.server.wsgi import application\n"
        "from yapdns.server.gunicorn_app import server_hooks\n"
        "view = 'yapdns.server.dashboard.views.domain'\n"
        "before = view in sys.modules\n"
        "server_hooks('', json_logs=False)['post_worker_init'](None)\n"
        "print(before, view in sys.modules)\n"
    )
    env = {**os.environ, "YAPDNS_DATA_DIR": str(tmp_path), "YAPDNS_SECRET_KEY": "test-only",
           "YAPDNS_DATABASE_URL": ""}
    done = subprocess.run([sys.executable, "-c", script], check=False, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["False", "True"], done.stdout + done.stderr
