"""The Django apps under ``server/``: one skeleton for all, and no model change without its migration."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from django.apps import AppConfig, apps
from django.core.management import call_command

TESTS = Path(__file__).parent
OURS = [cfg for cfg in apps.get_app_configs() if cfg.name.startswith("yapdns.server.")]


def test_every_model_change_has_its_migration(db: None) -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=1, stdout=out)
    except SystemExit:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"a model change has no migration; run `DJANGO_SETTINGS_MODULE=yapdns.server.settings .venv/bin/django-admin makemigrations`:\n{out.getvalue()}")


@pytest.mark.parametrize("app", OURS, ids=lambda app: app.name.rsplit(".", 1)[1])
def test_every_app_has_the_same_skeleton(app: AppConfig) -> None:
    """apps.py with a docstring, models.py, urls.py, views (views.py, views/, or one per protocol sub-package)."""
    root = Path(app.path)
    name = root.name
    for required in ("apps.py", "models.py", "urls.py"):
        assert (root / required).is_file(), f"server/{name}/{required} is missing"
    assert ast.get_docstring(ast.parse((root / "apps.py").read_text())), f"server/{name}/apps.py has no docstring"
    views = [root / "views.py", root / "views", *(p / "views.py" for p in root.iterdir() if p.is_dir())]
    assert any(v.exists() for v in views), f"server/{name} has no views"
    assert list((TESTS / name).glob("test_*.py")), f"tests/server/{name}/ has no tests"


def test_every_app_is_listed() -> None:
    packages = {p.parent.name for p in Path(OURS[0].path).parent.glob("*/apps.py")}
    assert packages == {Path(app.path).name for app in OURS}
