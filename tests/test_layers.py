"""The layers run downhill: schemas <- bus <- adapters/processors <- demo <- omnibus (the composition)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ABOVE = {
    "schemas": {"bus", "adapters", "processors", "demo", "omnibus"},
    "bus": {"adapters", "processors", "demo", "omnibus"},
    "adapters": {"processors", "demo", "omnibus"},
    "processors": {"adapters", "demo", "omnibus"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):  # every import, also those inside functions
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = [
        f"{path.relative_to(REPO)} imports {sorted(_imports(path) & above)}"
        for layer, above in ABOVE.items()
        for path in sorted((REPO / layer).rglob("*.py"))
        if _imports(path) & above
    ]
    assert wrong == []


def test_importing_all_of_bus_loads_nothing_above_it() -> None:
    script = (
        "import importlib, pkgutil, sys, bus\n"
        "for module in pkgutil.walk_packages(bus.__path__, 'bus.'):\n"
        "    importlib.import_module(module.name)\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & "
        "{'adapters', 'processors', 'demo', 'omnibus'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
