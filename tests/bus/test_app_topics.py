"""tester24 F8 for processors: a worker whose input topics do not exist stops at start with ``MissingTopicError``
(status 2, ``omnibus topics apply`` named) instead of waiting for partitions until ``bus.startup_watchdog`` ends it
with 75. No broker: aiokafka's admin client is a stand-in listing what a cluster would."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from bus import app as bus_app
from bus.app import create_app, run_worker, subscribed_topics
from bus.errors import MissingTopicError
from bus.topics import HANDOFF_EVENTS, HANDOFF_TICKS
from tests.support.settings import isolated_settings


class Admin:
    """``AIOKafkaAdminClient`` as ``bus.app.probe_cluster`` uses it, on a cluster listing ``LISTED``."""

    LISTED: Iterable[str] = ()

    def __init__(self, **_: object) -> None:
        self.closed = False

    async def start(self) -> None:
        return None

    async def list_topics(self) -> list[str]:
        return list(self.LISTED)

    async def close(self) -> None:
        self.closed = True


def _app(tmp_path: Path):  # noqa: ANN202 - a faust app
    settings = isolated_settings("127.0.0.1:1")
    app = create_app("topics-test", settings, datadir=str(tmp_path))
    events, ticks = HANDOFF_EVENTS.name(settings.topics), HANDOFF_TICKS.name(settings.topics)

    @app.agent(app.topic(events, ticks))
    async def track(stream):  # type: ignore[no-untyped-def]
        async for _ in stream:
            pass

    @app.agent(app.topic(f"{settings.topics.prefix}.topics-test-own-changelog"))  # not one ``topics apply`` creates
    async def own(stream):  # type: ignore[no-untyped-def]
        async for _ in stream:
            pass

    return app, settings, [events, ticks]


def test_the_topics_a_worker_needs_are_those_of_topics_apply_its_agents_read(tmp_path: Path) -> None:
    app, settings, read = _app(tmp_path)
    assert subscribed_topics(app, settings) == sorted(read)


def test_a_worker_whose_input_topics_do_not_exist_stops_before_starting_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, settings, read = _app(tmp_path)
    monkeypatch.setattr(bus_app, "admin_client", lambda kafka: Admin())
    monkeypatch.setattr(Admin, "LISTED", [read[0]])
    started: list[bool] = []
    monkeypatch.setattr(bus_app.faust, "Worker", lambda *a, **k: started.append(True))
    with pytest.raises(MissingTopicError) as raised:
        run_worker(app, settings)
    assert raised.value.topics == (read[1],) and "run `omnibus topics apply`" in str(raised.value)
    assert started == []
