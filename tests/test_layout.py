"""The import rules of docs/architecture.md ("The map"), read from the source with ``ast``.

Each package may import only the packages its rule lists (every import
counts: module level, ``TYPE_CHECKING`` and inside functions), and the
modules import each other without a cycle at import time.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

SRC = ROOT / "src"
VERSION = "yapdns"  # the root package itself: its __version__, and nothing else of it
ANYTHING = "*"
RULES: dict[str, frozenset[str]] = {
    "yapdns.core": frozenset(),
    "yapdns.gcpause": frozenset(),
    "yapdns.config": frozenset({"yapdns.core"}),
    "yapdns.exchange": frozenset({"yapdns.core"}),
    "yapdns.agent.parsers": frozenset({"yapdns.core", "yapdns.exchange"}),
    "yapdns.agent.wire": frozenset({"yapdns.core", "yapdns.gcpause", "yapdns.agent.parsing"}),
    "yapdns.agent.inputs": frozenset({"yapdns.core", "yapdns.gcpause", "yapdns.agent"}),
    "yapdns.agent": frozenset(
        {VERSION, "yapdns.core", "yapdns.gcpause", "yapdns.agent.parsers", "yapdns.agent.inputs"}
    ),
    "yapdns.storage": frozenset({"yapdns.core", "yapdns.config", "yapdns.gcpause"}),
    "yapdns.ingest": frozenset({"yapdns.core", "yapdns.storage"}),
    "yapdns.enrich": frozenset({"yapdns.core", "yapdns.config", "yapdns.storage"}),
    "yapdns.upstream": frozenset({"yapdns.core", "yapdns.config"}),
    "yapdns.server": frozenset(
        {VERSION, "yapdns.core", "yapdns.config", "yapdns.gcpause", "yapdns.storage", "yapdns.ingest", "yapdns.enrich",
         "yapdns.upstream", "yapdns.exchange"}
    ),
    "yapdns.cli": frozenset({ANYTHING}),  # the entry points
    "yapdns.__main__": frozenset({"yapdns.cli"}),
    VERSION: frozenset(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def package_of(module: str) -> str:
    """The most specific package of RULES that ``module`` belongs to."""
    return max((p for p in RULES if module == p or module.startswith(p + ".")), key=len)


def allows(rule: frozenset[str], target: str) -> bool:
    return ANYTHING in rule or any(target == a or (a != VERSION and target.startswith(a + ".")) for a in rule)


def imports(path: Path, *, runtime_module_level: bool = False) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of each project import in ``path``; only those run at import time, if asked."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    if runtime_module_level:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or (
                isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            ):
                skipped.update(id(n) for n in ast.walk(node) if n is not node or isinstance(node, ast.If))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        yield from ((node.lineno, name) for name in names if name == "yapdns" or name.startswith("yapdns."))


def test_every_package_has_a_rule_on_the_map() -> None:
    assert {package_of(m) for m in MODULES} <= set(RULES)
    documented = (ROOT / "docs" / "architecture.md").read_text()
    for package in set(RULES) - {VERSION}:
        path = package.removeprefix("yapdns.").replace(".", "/")
        assert f"`{path}/`" in documented or f"`{path}.py`" in documented, f"{package} is not on the map"


@pytest.mark.parametrize("package", [p for p in RULES if p != "yapdns.cli"])
def test_each_package_imports_only_what_its_rule_allows(package: str) -> None:
    rule = RULES[package] | {package}
    broken = [
        f"{MODULES[m].relative_to(ROOT)}:{line} imports {target}"
        for m in MODULES
        if package_of(m) == package
        for line, target in imports(MODULES[m])
        if not allows(rule, target)
    ]
    assert not broken, f"{package} may import only {sorted(RULES[package])}:\n" + "\n".join(broken)


def test_no_import_cycle_at_import_time() -> None:
    graph = {
        m: {t for _, t in imports(p, runtime_module_level=True) if t in MODULES and t != m} for m, p in MODULES.items()
    }
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
