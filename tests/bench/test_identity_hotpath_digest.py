"""The hot-path digest repeats on one tree: two processes of ``tests.bench.identity_hotpath_digest`` print the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _printed() -> str:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.bench.identity_hotpath_digest", "--events", "60", "--warm", "60",
               "--batch", "20"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=300).stdout


def test_two_runs_of_one_tree_print_the_same_digests() -> None:
    first = _printed()
    assert first.startswith("changelog ") and "outputs " in first
    assert _printed() == first
