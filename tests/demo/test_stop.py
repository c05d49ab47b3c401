"""``omnibus demo --keep-running`` prints what a user needs to post by hand, and any stop cleans up (#10 case 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo.services import SITE_KEY, TERMINAL_TOKEN, WRITE_KEY

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 600


def _pids_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.kafka
@pytest.mark.registry
@pytest.mark.timeout(900)
def test_a_stopped_demo_prints_its_keys_and_leaves_nothing_behind(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    log = tmp_path / "demo.log"
    env = {**os.environ, "TMPDIR": str(scratch), "COLUMNS": "200", "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-c", "from omnibus.cli import main; main()", "demo", "--customers", "2", "--keep-running"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while "Still running" not in log.read_text(errors="replace"):
                assert demo.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(1)
            shown = log.read_text(errors="replace")
            for key in (WRITE_KEY, TERMINAL_TOKEN, SITE_KEY):
                assert key in shown
            assert "/customers/lookup" in shown and "curl" in shown
            # other commands against the kept-running stack need its address, registry and keys (found by a new user)
            for variable in ("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "OMNIBUS_REGISTRY__URL",
                             "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", "OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE"):
                assert f"export {variable}=" in shown, variable
            assert _pids_mentioning(str(scratch)), "the demo's broker should run from its scratch folder"
            demo.send_signal(signal.SIGTERM)  # SIGHUP takes the same path (demo.cli.STOP_SIGNALS)
            assert demo.wait(timeout=120) == 130
        finally:
            if demo.poll() is None:
                demo.kill()
    assert list(scratch.iterdir()) == [], "the demo's scratch folder (Kafka's data) must be removed"
    deadline = time.monotonic() + 30
    while _pids_mentioning(str(scratch)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _pids_mentioning(str(scratch)) == [], "no broker or registry may outlive the demo"
