"""Each graph module imports on its own, first: a cycle hidden by the usual import order breaks whichever process
imports a module of the cycle first (``customer_node`` -> ``move_contact`` -> ``vacate`` -> ``identifier_node`` ->
``seek`` -> ``customer_node`` failed only where a test imported ``customer_node`` before the rest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GRAPH = Path(__file__).resolve().parents[4] / "processors" / "identity" / "graph"

SCRIPT = """
import importlib, sys
from prometheus_client import REGISTRY
failed = []
for name in sys.argv[1:]:
    for loaded in [key for key in sys.modules if key.startswith(("processors", "bus", "adapters", "schemas"))]:
        del sys.modules[loaded]
    for collector in list(REGISTRY._collector_to_names):  # the modules declare their metrics again
        REGISTRY.unregister(collector)
    try:
        importlib.import_module(name)
    except ImportError as error:
        failed.append(f"{name}: {error}")
print("\\n".join(failed))
"""


def test_every_graph_module_imports_first() -> None:
    modules = [f"processors.identity.graph.{path.stem}" for path in sorted(GRAPH.glob("*.py"))
               if path.stem != "__init__"]
    result = subprocess.run([sys.executable, "-c", SCRIPT, *modules], capture_output=True, text=True, check=True,
                            cwd=GRAPH.parents[2])
    assert result.stdout.strip() == ""
