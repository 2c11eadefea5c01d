"""What ``yapdns serve``'s gunicorn master does before it forks: the workers share the lexical model it built, so
no worker's first domain page pays for it (about 1 s of CPU, docs/performance.md)."""

from __future__ import annotations

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
