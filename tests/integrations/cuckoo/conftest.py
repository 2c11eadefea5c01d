"""Load ``integrations/cuckoo/yapdns.py`` the way each sandbox does, with only its ``Report`` base class stubbed.

``capev2``: ``modules/reporting/yapdns.py`` importing ``lib.cuckoo.common.abstracts.Report``
(CAPEv2; Cuckoo 1.x had the same layout). ``cuckoo2``: ``cuckoo/reporting/yapdns.py`` importing
``cuckoo.common.abstracts.Report`` (the Cuckoo 2.0.x package). The stubs copy the real base
classes' interface: ``set_path`` (``reports_path``), ``set_options``, ``set_task``, ``run``.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MODULE = Path(__file__).resolve().parents[3] / "integrations" / "cuckoo" / "yapdns.py"
GOLDEN = Path(__file__).resolve().parents[2] / "agent" / "parsers" / "golden"

_REPORT = '''
import os


class Dictionary(dict):
    """Attribute access to a config section, as both frameworks provide."""

    def __getattr__(self, key):
        return self.get(key, None)


class Report(object):
    order = 1

    def __init__(self):
        self.analysis_path = ""
        self.reports_path = ""
        self.task = None
        self.options = None

    def set_path(self, analysis_path):
        self.analysis_path = analysis_path
        self.reports_path = os.path.join(analysis_path, "reports")
        if not os.path.isdir(self.reports_path):
            os.makedirs(self.reports_path)

    def set_options(self, options):
        self.options = Dictionary(options)

    def set_task(self, task):
        self.task = task

    def run(self, results):
        raise NotImplementedError
'''

LAYOUTS = {
    "capev2": ("lib/cuckoo/common/abstracts.py", "modules/reporting/yapdns.py", "modules.reporting.yapdns"),
    "cuckoo2": ("cuckoo/common/abstracts.py", "cuckoo/reporting/yapdns.py", "cuckoo.reporting.yapdns"),
}
_TOP = ("lib", "modules", "cuckoo")


@dataclass
class Framework:
    """The loaded module and a way to run it as the sandbox's reporting engine does."""

    name: str
    module: ModuleType
    base: type

    def run(self, results: dict[str, Any], analysis: Path, task: dict[str, Any], **options: Any) -> Any:
        reporter = self.module.Yapdns()
        reporter.set_path(str(analysis))
        reporter.set_task(task)
        reporter.set_options({"enabled": True, **options})
        reporter.run(results)
        return reporter


def _write_package(root: Path, relative: str, content: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    for parent in path.relative_to(root).parents:
        if str(parent) != ".":
            (root / parent / "__init__.py").touch()


def _forget_framework() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in _TOP:
            del sys.modules[name]


@pytest.fixture(params=sorted(LAYOUTS))
def framework(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Framework]:
    abstracts, target, dotted = LAYOUTS[request.param]
    root = tmp_path / f"{request.param}-root"
    _write_package(root, abstracts, _REPORT)
    _write_package(root, target, "")
    shutil.copy(MODULE, root / target)
    _forget_framework()
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(dotted)
        base = importlib.import_module(abstracts[: -len(".py")].replace("/", ".")).Report
        yield Framework(request.param, module, base)
    finally:
        sys.path.remove(str(root))
        _forget_framework()


def real_report(task: int) -> dict[str, Any]:
    """One of the real CAPEv2 reports of the golden samples."""
    import json

    (path,) = (GOLDEN / "cuckoo_report").glob(f"capev2_task{task}_*.report.json")
    return json.loads(path.read_text())  # type: ignore[no-any-return]
