from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from bus import stall_exit


def test_a_stuck_worker_process_stops_itself_and_exits_75(monkeypatch: pytest.MonkeyPatch) -> None:
    from bus.worker_exit import fatal_errors_exit

    killed: list[int] = []
    monkeypatch.setattr(stall_exit, "_stuck", [])
    monkeypatch.setattr(stall_exit, "_worker_process", [])
    monkeypatch.setattr(stall_exit, "os", SimpleNamespace(kill=lambda pid, sig: killed.append(sig), getpid=os.getpid))
    stall_exit.exit_when_stuck("t[0] consumed nothing")
    assert killed == [] and stall_exit.stuck_reason() is None  # an app inside a test or tool: log only
    stall_exit.enable_exit()
    stall_exit.exit_when_stuck("t[0] consumed nothing")
    assert len(killed) == 1 and stall_exit.stuck_reason() == "t[0] consumed nothing"
    app = SimpleNamespace(agents={})
    with pytest.raises(SystemExit) as exit_, fatal_errors_exit(app, SimpleNamespace()):  # type: ignore[arg-type]
        raise SystemExit(0)  # faust's graceful stop after the SIGTERM
    assert exit_.value.code == stall_exit.WORKER_STALLED_EXIT == 75


def test_the_line_says_stopping_only_where_the_worker_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester17 N5: the demo (no ``enable_exit``) logged "stopping the worker to be started again" at ERROR, and
    nothing stopped; the line now says what happens in the process that writes it."""
    monkeypatch.setattr(stall_exit, "_worker_process", [])
    assert stall_exit.stop_outcome() == stall_exit.stop_outcome(stall_exit.exit_when_stuck)
    assert stall_exit.stop_outcome().startswith("not stopped: this process runs no worker")
    assert stall_exit.stop_outcome(lambda reason: None) == stall_exit.STOPPING  # a stop of the caller's
    monkeypatch.setattr(stall_exit, "_worker_process", [True])
    assert stall_exit.stop_outcome() == stall_exit.STOPPING == "stopping the worker to be started again"
