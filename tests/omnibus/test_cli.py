"""The composition imports a sub-command's module only when that sub-command is used (``bus.cli.lazy``): an
``omnibus identity run`` process loads the identity processor, not every adapter and processor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("adapters", "processors", "demo")


def _loaded_after(statements: str) -> set[str]:
    """The ``adapters.x`` / ``processors.x`` / ``demo`` modules a fresh interpreter holds after ``statements``."""
    script = (
        f"import json, sys\n{statements}\n"
        f"print(json.dumps(sorted({{'.'.join(name.split('.')[:2]) for name in sys.modules "
        f"if name.split('.')[0] in {PACKAGES!r} and '.' in name}})))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_building_the_command_tree_imports_no_adapter_or_processor() -> None:
    assert _loaded_after("import typer\nfrom omnibus.cli import app\ntyper.main.get_command(app)") == set()


def test_a_sub_command_imports_its_own_package_only() -> None:
    invoke = ("from typer.testing import CliRunner\nfrom omnibus.cli import app\n"
              "result = CliRunner().invoke(app, {args!r})\nassert result.exit_code == 0, result.output")
    identity = _loaded_after(invoke.format(args=["identity", "run", "--help"]))
    assert "processors.identity" in identity
    assert not {name for name in identity if name.startswith(("adapters.", "demo"))}
    assert not identity & {"processors.offers", "processors.handoffs", "processors.kpis", "processors.verify"}
    web = _loaded_after(invoke.format(args=["adapter", "web", "run", "--help"]))
    assert "adapters.web" in web
    assert not {name for name in web if name.startswith(("processors.", "demo"))}
    assert not web & {"adapters.branch", "adapters.call_center", "adapters.legacy"}
