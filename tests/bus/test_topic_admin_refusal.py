"""``bus.topic_admin``: ``omnibus topics apply`` rides a cluster that cannot place a replica for now (no broker)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.errors import InvalidConfigurationError

from bus import topic_admin
from bus.admin_refusal import ClusterRefused
from bus.topic_admin import Action, apply_topics
from bus.topics import CONTACT_EVENTS, DEAD_LETTERS
from tests.support.settings import isolated_settings

FENCED = (38, "Unable to replicate the partition 1 time(s): All brokers are currently fenced, or have all their log "
              "directories cordoned.")


class Admin:
    """An admin client whose CreateTopics answers ``answers`` in turn (per topic: (code, message)), then creates."""

    def __init__(self, *answers: tuple[int, str], refused: frozenset[str] = frozenset()) -> None:
        self.answers, self.refused = list(answers), refused
        self.partitions: dict[str, int] = {}
        self.asked: list[list[str]] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"topic": name, "error_code": 0, "partitions": list(range(self.partitions[name]))}
                if name in self.partitions else {"topic": name, "error_code": 3, "partitions": []} for name in names]

    async def create_topics(self, topics: list[Any]) -> Any:
        self.asked.append([topic.name for topic in topics])
        answer = self.answers.pop(0) if self.answers else (0, "")
        errors = []
        for topic in topics:
            code, message = answer if not self.refused or topic.name in self.refused else (0, "")
            if not code:
                self.partitions[topic.name] = topic.num_partitions
            errors.append((topic.name, code, message))
        return type("Response", (), {"topic_errors": errors})()


@pytest.fixture
def settings() -> Any:
    return isolated_settings("127.0.0.1:9", producer={"give_up_after_s": 30.0})


async def test_topics_refused_while_every_broker_is_fenced_are_created_once_it_is_back(
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(FENCED, FENCED)
    monkeypatch.setattr(topic_admin, "admin_client", lambda _: admin)
    outcomes = await apply_topics(settings, [CONTACT_EVENTS, DEAD_LETTERS])
    assert [outcome.action for outcome in outcomes] == [Action.CREATED, Action.CREATED]
    assert len(admin.asked) == 3


async def test_only_the_topics_still_missing_are_asked_for_again(settings: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dead_letters = DEAD_LETTERS.name(settings.topics)
    admin = Admin(FENCED, refused=frozenset({dead_letters}))
    monkeypatch.setattr(topic_admin, "admin_client", lambda _: admin)
    outcomes = await apply_topics(settings, [CONTACT_EVENTS, DEAD_LETTERS])
    assert [outcome.action for outcome in outcomes] == [Action.CREATED, Action.CREATED]
    assert admin.asked[1] == [dead_letters]


async def test_a_cluster_fenced_past_the_give_up_time_fails_naming_why(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(*[FENCED] * 1000)
    monkeypatch.setattr(topic_admin, "admin_client", lambda _: admin)
    quick = isolated_settings("127.0.0.1:9", producer={"give_up_after_s": 0.5})
    with pytest.raises(ClusterRefused, match="refused to create topics for 0 s: every broker is fenced"):
        await apply_topics(quick, [CONTACT_EVENTS])
    assert len(admin.asked) > 1


async def test_a_request_the_cluster_finds_wrong_fails_at_once(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin((40, "Invalid value x for configuration cleanup.policy"))
    monkeypatch.setattr(topic_admin, "admin_client", lambda _: admin)
    with pytest.raises(InvalidConfigurationError, match="cleanup.policy"):
        await apply_topics(settings, [CONTACT_EVENTS])
    assert len(admin.asked) == 1
