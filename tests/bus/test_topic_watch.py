"""tester30 F8: processors and adapters whose topics vanished (the broker wiped, topics deleted) ran on, never
unready, while aiokafka logged "Topic ... not found in cluster metadata" ~900 times a second. A topic the cluster
answers without for ``GONE_AFTER_S`` now stops the process with the line a missing topic gets at start, status 75:
started again, it ends at once with status 2 while the topics are still missing, and runs once they are applied."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from bus import topic_watch
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError
from bus.topic_watch import VanishedTopics

TOPIC = "omnibus.handoff.ticks.v1"


def test_a_topic_is_gone_once_every_answer_for_the_window_lacked_it() -> None:
    rule = VanishedTopics(gone_after_s=30)
    assert rule.observe([TOPIC], 0) == [] and rule.observe([TOPIC], 20) == []
    assert rule.observe([], 25) == []  # listed again (a broker catching up on its metadata): starts afresh
    assert rule.observe([TOPIC], 30) == [] and rule.observe([TOPIC], 59) == []
    assert rule.observe([TOPIC, "omnibus.business.events.v1"], 60) == [TOPIC]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str] | None]]:
    """The cluster's answers, one per check (None: no answer); the watch's clock advances 10 s per check."""
    given: list[list[str] | None] = []

    async def missing_now(_settings: object, names: list[str]) -> list[str] | None:
        return given.pop(0) if given else []

    monkeypatch.setattr(topic_watch, "missing_now", missing_now)
    yield given


def run_watch(checks: int) -> list[MissingTopicError]:
    stops: list[MissingTopicError] = []
    clock = iter(range(0, 10 * (checks + 1), 10))

    async def watch() -> None:
        await asyncio.wait_for(topic_watch.watch(OmnibusSettings(), [TOPIC], "handoffs", interval_s=0,
                                                 stop=stops.append, clock=lambda: float(next(clock))), timeout=2)

    try:
        asyncio.run(watch())
    except (TimeoutError, StopIteration, RuntimeError):
        pass  # the watch runs until cancelled
    return stops


def test_a_deleted_topic_stops_the_process_with_the_start_s_error(answers: list[list[str] | None]) -> None:
    answers.extend([[TOPIC]] * 5)
    (error,) = run_watch(5)
    assert error.topics == (TOPIC,) and "does not exist: run `omnibus topics apply`" in str(error)


def test_a_cluster_that_does_not_answer_is_an_outage_never_a_deleted_topic(answers: list[list[str] | None]) -> None:
    answers.extend([None] * 8)
    assert run_watch(8) == []


def test_only_a_process_of_its_own_stops_itself_and_says_why_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    killed: list[int] = []
    monkeypatch.setattr(topic_watch.os, "kill", lambda pid, signum: killed.append(signum))
    monkeypatch.setattr(topic_watch, "_gone", [])
    monkeypatch.setattr(topic_watch, "_exit_enabled", [])
    topic_watch.stop_for(MissingTopicError([TOPIC]))
    assert killed == [] and topic_watch.gone() is None  # a test, the demo: logged only
    topic_watch.enable_exit()
    topic_watch.stop_for(MissingTopicError([TOPIC]))
    assert killed == [signal.SIGTERM] and topic_watch.gone() is not None


def test_an_adapter_stopped_by_the_watch_exits_75_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.base.cli import exit_when_topics_vanished

    monkeypatch.setattr(topic_watch, "_gone", [])
    exit_when_topics_vanished("web hall")  # nothing vanished: returns
    monkeypatch.setattr(topic_watch, "_gone", [MissingTopicError([TOPIC])])
    with pytest.raises(SystemExit) as exited:
        exit_when_topics_vanished("web hall")
    assert exited.value.code == topic_watch.RESTART_EXIT == 75
    assert capsys.readouterr().err.strip() == (f"error: web hall: topic {TOPIC} does not exist: run `omnibus topics "
                                               "apply` (or check OMNIBUS_TOPICS__PREFIX) (deleted while the adapter "
                                               "ran)")
