"""Every module the shipped packages import comes with an install of Omnibus itself: from the standard library, from
Omnibus, or from a runtime dependency in ``pyproject.toml`` (or one those bring). A test-only package imported by
shipped code works on a developer's machine and fails on a fresh runtime install (``scripts/bootstrap.sh
--runtime``, the demo's): ``omnibus topics read`` imported orjson, a test extra, and every ``omnibus`` command would
have failed to start."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("adapters", "bus", "demo", "deploy", "omnibus", "processors", "schemas")


def _requirement(requirement: str) -> tuple[str, set[str]]:
    """``confluent-kafka[schemaregistry]>=2.4`` -> ("confluent-kafka", {"schemaregistry"})."""
    name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
    extras = re.search(r"\[([^\]]*)\]", requirement.split(";")[0])
    return name, {extra.strip() for extra in extras.group(1).split(",")} if extras else set()


def _wanted(requirement: str, extras: set[str]) -> bool:
    marker = requirement.partition(";")[2]
    found = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
    return found is None or found.group(1) in extras


def _runtime_distributions() -> set[str]:
    """The runtime dependencies and, transitively, what they require (with the extras asked for)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    found: set[tuple[str, frozenset[str]]] = set()
    todo = [_requirement(requirement) for requirement in declared]
    while todo:
        name, extras = todo.pop()
        if (name, frozenset(extras)) in found:
            continue
        found.add((name, frozenset(extras)))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend(_requirement(r) for r in requires if _wanted(r, extras))
    return {name for name, _ in found}


def _optional(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside ``try: import x`` with an ``except ImportError`` (or ModuleNotFoundError): a fallback, not a need."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try) and any(
                isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
                for handler in node.handlers):
            return True
    return False


def _imported_top_levels() -> dict[str, set[str]]:
    imported: dict[str, set[str]] = {}
    for package in SHIPPED:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
            for node in ast.walk(tree):
                if _optional(node, parents):
                    continue
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [])
                for name in names:
                    imported.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return imported


def test_shipped_code_imports_only_what_a_runtime_install_brings() -> None:
    runtime = _runtime_distributions()
    providers = metadata.packages_distributions()
    first_party = {path.name for path in ROOT.iterdir() if (path / "__init__.py").exists()}
    missing = {}
    for module, paths in _imported_top_levels().items():
        if module in sys.stdlib_module_names or module in first_party or module == "__future__":
            continue
        distributions = {name.lower().replace("_", "-") for name in providers.get(module, [])}
        if not distributions & runtime:
            missing[module] = sorted(paths)
    assert not missing, f"imported by shipped code but not a runtime dependency: {missing}"
