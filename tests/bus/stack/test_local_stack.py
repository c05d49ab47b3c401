"""``omnibus stack`` and the ownership rules: only processes we started are ever signalled."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus.cli.stack import app
from bus.stack import process
from bus.stack.local import LocalStack
from bus.stack.ports import free_port, is_listening


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert not is_listening(port)


def test_down_never_signals_a_process_it_does_not_own(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        forged = {"kafka": {"pid": bystander.pid, "marker": "not-ours", "port": free_port()}, "registry": None}
        (tmp_path / "stack.json").write_text(json.dumps(forged))
        stack = LocalStack(tmp_path)
        assert stack.status()["kafka"]["alive"] is False  # type: ignore[index]
        assert stack.down() == []
        assert bystander.poll() is None, "a process that is not ours was killed"
        assert not process.owns(bystander.pid, "not-ours")  # not java, wrong marker
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.kafka
def test_cli_up_status_down(tmp_path: Path) -> None:
    runner = CliRunner()
    state_dir = tmp_path / "state"
    result = runner.invoke(app, ["up", "--no-registry", "--state-dir", str(state_dir)])
    try:
        assert result.exit_code == 0, result.output
        assert "bootstrap servers: 127.0.0.1:" in result.output
        state = json.loads((state_dir / "stack.json").read_text())
        pid, marker, port = state["kafka"]["pid"], state["kafka"]["marker"], state["kafka"]["port"]
        assert process.owns(pid, marker) and is_listening(port)

        status = runner.invoke(app, ["status", "--state-dir", str(state_dir)])
        assert status.exit_code == 0, status.output
        assert "running" in status.output

        again = runner.invoke(app, ["up", "--no-registry", "--state-dir", str(state_dir)])
        assert again.exit_code == 1 and "already running" in again.output
    finally:
        down = runner.invoke(app, ["down", "--state-dir", str(state_dir)])
    assert down.exit_code == 0, down.output
    assert "stopped: kafka" in down.output
    assert not process.owns(pid, marker) and not is_listening(port)
    assert not (state_dir / "stack.json").exists()
