"""``python -m adapters.branch.agent``: the counter agent alone ends as the ``omnibus`` script does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]

# The agent run as ``python -m adapters.branch.agent run``, with an object whose teardown at Python's exit takes 8 s.
LINGERING = """
import json, runpy, sys, time

class Slow:
    def __del__(self, sleep=time.sleep):
        sleep(8)

json.kept = Slow()
sys.argv = ["adapters.branch.agent", "run"]
runpy.run_module("adapters.branch.agent", run_name="__main__", alter_sys=True)
"""


def test_the_agent_alone_ends_after_its_last_line_once_stopped(tmp_path: Path) -> None:
    """Once its stop began (SIGTERM), the agent's process ends right after its last line (``bus.shutdown.
    exit_at_once_once_stopping``), not after Python's own exit (objects' teardown), which no deadline bounds."""
    with socket.socket() as closed:  # a branch adapter that is not there: the agent backs off
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMNIBUS_ADAPTER_COUNTER_AGENT__ADAPTER_URL": f"http://127.0.0.1:{port}",
           "OMNIBUS_ADAPTER_COUNTER_AGENT__TOKEN": "t", "OMNIBUS_ADAPTER_COUNTER_AGENT__TERMINAL_ID": "T-1",
           "OMNIBUS_ADAPTER_COUNTER_AGENT__BRANCH_ID": "B-1",
           "OMNIBUS_ADAPTER_COUNTER_AGENT__JOURNAL_PATH": str(tmp_path / "journal.sqlite")}
    agent = subprocess.Popen([sys.executable, "-c", LINGERING], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert agent.stderr is not None
        for line in agent.stderr:
            if "counter agent uploading" in line:
                break
        signalled = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=60)
        took_s = time.monotonic() - signalled
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0, err[-3000:]
    assert took_s < 6, err[-3000:]  # the teardown alone takes 8 s
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert all(line.get("component") == "counter-agent" for line in lines)
