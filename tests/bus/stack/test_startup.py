"""A server's start is waited for while its process lives and makes progress (``bus.stack.startup``): a broker
stopped at a fixed 90 s on a loaded 2-core machine had reached metadata loading. Fake processes, logs and clocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.errors import ConfigError
from bus.stack.startup import DEFAULT_STALL_S, DEFAULT_START_S, StartLimits, StartWatch, await_start


class FakeProcess:
    """``Popen.poll``: None while alive, the exit code from round ``dies_at`` on."""

    def __init__(self, dies_at: int | None = None, code: int = 1) -> None:
        self.rounds, self.dies_at, self.code = 0, dies_at, code

    def poll(self) -> int | None:
        self.rounds += 1
        return self.code if self.dies_at is not None and self.rounds >= self.dies_at else None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Failed(Exception):
    pass


def _wait(process: FakeProcess, log: Path, limits: StartLimits, *, grows: bool, ready_at_s: float | None,
          clock: FakeClock) -> None:
    """``await_start`` polling every 10 s (fake time); the log grows by a line each round when ``grows``."""
    watch = StartWatch("server", [log], limits, clock=clock)

    def probe() -> str | None:
        if grows:
            with log.open("a") as out:
                out.write("loading metadata\n")
        return None if ready_at_s is not None and clock.now - 1000.0 >= ready_at_s else "port never opened"

    await_start(process, probe, watch, Failed, poll_s=10.0, sleep=clock.sleep)  # type: ignore[arg-type]


def test_a_start_whose_log_grows_is_waited_for_past_the_old_90_s_and_120_s(tmp_path: Path) -> None:
    clock = FakeClock()
    _wait(FakeProcess(), tmp_path / "server.log", StartLimits(), grows=True, ready_at_s=400.0, clock=clock)
    assert clock.now - 1000.0 == 400.0


def test_a_process_that_exited_fails_at_once(tmp_path: Path) -> None:
    clock = FakeClock()
    with pytest.raises(Failed, match="exited with code 3 during start-up"):
        _wait(FakeProcess(dies_at=2, code=3), tmp_path / "server.log", StartLimits(), grows=True, ready_at_s=None,
              clock=clock)
    assert clock.now - 1000.0 == 10.0  # one poll, not a limit


def test_a_live_but_silent_process_fails_after_the_stall_limit(tmp_path: Path) -> None:
    clock = FakeClock()
    with pytest.raises(Failed, match=r"made no progress for 300s .*OMNIBUS_STACK_STALL_S.*port never opened"):
        _wait(FakeProcess(), tmp_path / "server.log", StartLimits(ceiling_s=1200, stall_s=300), grows=False,
              ready_at_s=None, clock=clock)
    assert clock.now - 1000.0 == 300.0


def test_a_start_busy_for_ever_ends_at_the_ceiling(tmp_path: Path) -> None:
    clock = FakeClock()
    with pytest.raises(Failed, match=r"was not ready within 1200s \(\$OMNIBUS_STACK_START_S\)"):
        _wait(FakeProcess(), tmp_path / "server.log", StartLimits(ceiling_s=1200, stall_s=300), grows=True,
              ready_at_s=None, clock=clock)
    assert clock.now - 1000.0 == 1200.0


def test_a_new_probe_answer_is_progress_too(tmp_path: Path) -> None:
    """The port opened (the log may be quiet then): the stall limit counts from there."""
    clock = FakeClock()
    watch = StartWatch("server", [tmp_path / "absent.log"], StartLimits(ceiling_s=1200, stall_s=300), clock=clock)
    clock.now += 250
    assert watch.overdue("port never opened") is None
    clock.now += 40
    assert watch.overdue("KafkaConnectionError: ...") is None  # 290 s since launch, a new answer
    clock.now += 290
    assert watch.overdue("KafkaConnectionError: ...") is None
    clock.now += 10
    assert watch.overdue("KafkaConnectionError: ...") is not None


def test_a_long_wait_logs_that_it_goes_on_once_a_minute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    log = tmp_path / "server.log"
    _wait(FakeProcess(), log, StartLimits(), grows=True, ready_at_s=150.0, clock=clock)
    logged = capsys.readouterr()
    said = [line for line in (logged.out + logged.err).splitlines() if "still starting" in line]
    assert len(said) == 2 and all(str(log) in line for line in said), said


def test_the_limits_come_from_the_environment() -> None:
    assert StartLimits.from_environment({}) == StartLimits(DEFAULT_START_S, DEFAULT_STALL_S)
    given = {"OMNIBUS_STACK_START_S": "3000", "OMNIBUS_STACK_STALL_S": " 600 "}
    assert StartLimits.from_environment(given) == StartLimits(3000.0, 600.0)
    for wrong in ("0", "-5", "ten", "nan"):
        with pytest.raises(ConfigError, match="OMNIBUS_STACK_START_S"):
            StartLimits.from_environment({"OMNIBUS_STACK_START_S": wrong})
