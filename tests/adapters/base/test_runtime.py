"""``adapter_runtime``: what an adapter leaves on disk when the topics it publishes to do not exist (tester25 F5)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.base import runtime as runtime_module
from adapters.base.config import AdapterSettings
from adapters.base.runtime import CHANNEL_TOPICS, adapter_runtime, published_topics
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError
from bus.topics import DEAD_LETTERS
from tests.adapters.base.support import ClusterWithoutTopics


def test_published_topics_are_the_adapters_and_the_dead_letters_under_the_prefix() -> None:
    settings = OmnibusSettings(topics={"prefix": "staging"})  # type: ignore[arg-type]
    names = published_topics(settings)
    assert names == [spec.name(settings.topics) for spec in (*CHANNEL_TOPICS, DEAD_LETTERS)]
    assert all(name.startswith("staging.") for name in names)


def test_tester25_f5_a_missing_topic_leaves_no_dedupe_file_behind(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """tester25 F5: an import under a mistyped prefix made its state (the dedupe file) before the topic check
    refused it: a folder per typo. The check comes first; nothing is opened on disk before it passes."""
    monkeypatch.setattr(runtime_module, "EventProducer", ClusterWithoutTopics)
    dedupe = tmp_path / "state" / "dedupe.sqlite"
    adapter = AdapterSettings(dedupe_path=dedupe)
    settings = OmnibusSettings(topics={"prefix": "typo"}, metrics={"enabled": False})  # type: ignore[arg-type]

    async def start() -> None:
        async with adapter_runtime("legacy", settings, adapter, metrics=False):
            pytest.fail("the runtime started without its topics")

    with pytest.raises(MissingTopicError, match="typo.contact.events.v1"):
        asyncio.run(start())
    assert not dedupe.parent.exists()


def test_an_adapter_without_a_seal_key_says_at_start_that_refused_input_cannot_be_re_driven(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``OMNIBUS_DEAD_LETTERS__SEAL_KEY`` a refused body is kept unsealed and cannot be re-driven: a tester
    learnt it only when a customer's case could not be; the adapter says so once, at start, naming the variable."""
    from structlog.testing import capture_logs

    from adapters.base.runtime import sealer
    from bus.logging import get_logger

    # a new lazy logger, first used inside capture_logs (the module's may be cached by an earlier test)
    monkeypatch.setattr(runtime_module, "log", get_logger(runtime_module.__name__))

    with capture_logs() as logs:
        assert sealer(OmnibusSettings(), "adapter.call_center") is None
    (line,) = [entry for entry in logs if entry["log_level"] == "warning"]
    assert line["component"] == "adapter.call_center" and line["setting"] == "OMNIBUS_DEAD_LETTERS__SEAL_KEY"
    assert "at least 32 characters" in line["to_do"] and "every adapter" in line["to_do"]  # what to do, not only what is lost
    key = "k" * 40
    with capture_logs() as logs:
        assert sealer(OmnibusSettings(dead_letters={"seal_key": key}), "adapter.web") is not None  # type: ignore[arg-type]
    assert not [entry for entry in logs if entry["log_level"] == "warning"]
    assert [entry["component"] for entry in logs if entry["log_level"] == "info"] == ["adapter.web"]  # a rollout is checked
    assert key not in repr(logs)
    with capture_logs() as logs:  # import-batch: a file's line is never re-driven, so no seal and no warning
        assert sealer(OmnibusSettings(), "adapter.legacy", importing=True) is None
        assert sealer(OmnibusSettings(dead_letters={"seal_key": key}), "adapter.legacy", importing=True) is None  # type: ignore[arg-type]
    assert not logs


@pytest.mark.parametrize("importing", [False, True])
def test_an_adapter_started_without_the_token_key_says_that_national_ids_will_be_dropped(
        monkeypatch: pytest.MonkeyPatch, importing: bool) -> None:
    """An adapter started without ``OMNIBUS_IDENTIFIERS__HMAC_KEY`` (nor identity's) drops every national ID and card
    number it receives (``no-token-key``): a user learnt it from the first refused NIR. One warning at start names the
    setting, whatever comes next (here the topic check refuses the start); an import says it in its summary instead.
    Neither the key nor any value is logged."""
    from structlog.testing import capture_logs

    from bus.identifiers.settings import HMAC_KEY_VARIABLE, IDENTITY_KEY_VARIABLE
    from bus.logging import get_logger

    monkeypatch.setattr(runtime_module, "log", get_logger(runtime_module.__name__))
    monkeypatch.setattr(runtime_module, "EventProducer", ClusterWithoutTopics)
    for variable in (HMAC_KEY_VARIABLE, IDENTITY_KEY_VARIABLE):
        monkeypatch.delenv(variable, raising=False)

    async def start(settings: OmnibusSettings) -> None:
        async with adapter_runtime("branch", settings, AdapterSettings(), metrics=False, importing=importing):
            pytest.fail("the runtime started without its topics")

    with capture_logs() as logs, pytest.raises(MissingTopicError):
        asyncio.run(start(OmnibusSettings()))
    warned = [entry for entry in logs if entry.get("setting") == HMAC_KEY_VARIABLE]
    if importing:
        assert not warned
        return
    (line,) = warned
    assert line["log_level"] == "warning" and line["component"] == "adapter.branch"
    assert line["kinds"] == ["CARD", "NATIONAL_ID"] and "national IDs" in line["event"]
    assert HMAC_KEY_VARIABLE in line["to_do"] and "16 characters" in line["to_do"]
    key = "k" * 24
    with capture_logs() as logs, pytest.raises(MissingTopicError):
        asyncio.run(start(OmnibusSettings(identifiers={"hmac_key": key})))  # type: ignore[arg-type]
    assert not [entry for entry in logs if entry.get("setting") == HMAC_KEY_VARIABLE] and key not in repr(logs)
    monkeypatch.setenv(IDENTITY_KEY_VARIABLE, key)  # identity's key is the adapters' too when theirs is not set
    with capture_logs() as logs, pytest.raises(MissingTopicError):
        asyncio.run(start(OmnibusSettings()))
    assert not [entry for entry in logs if entry.get("setting") == HMAC_KEY_VARIABLE]


class ClusterWithTopics:
    """An ``EventProducer`` on a broker that lists every topic asked for; it logs a line from a task it starts, as
    aiokafka's sender does."""

    def __init__(self, *_: object) -> None:
        self.sender: asyncio.Task[None] | None = None

    async def start(self, wait_for_broker: bool = True) -> None:
        from bus.logging import get_logger

        async def send() -> None:
            await asyncio.sleep(0)
            get_logger("aiokafka.test").info("sender started")

        self.sender = asyncio.create_task(send())

    async def require_topics(self, names: object) -> None:
        return None

    async def stop(self) -> None:
        if self.sender is not None:
            await self.sender


def test_every_line_of_an_adapters_runtime_names_its_component_and_none_leaks_to_the_caller(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The runtime's own lines (its dedupe store, the warnings at start) and those of the tasks it starts name the
    adapter; the caller's lines, inside its block and after it, do not (the demo runs several adapters in one task)."""
    import json
    import logging

    import structlog

    from bus.logging import LIBRARY_LOGGERS, configure_logging, get_logger

    monkeypatch.setattr(runtime_module, "EventProducer", ClusterWithTopics)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    caller = get_logger("the.caller")

    async def start() -> None:
        async with adapter_runtime("legacy", OmnibusSettings(), AdapterSettings(dedupe_in_memory=True),
                                   metrics=False):
            caller.info("inside the block")
        caller.info("after the block")

    try:
        asyncio.run(start())
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        structlog.reset_defaults()
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    components = {line["event"]: line.get("component") for line in logged}
    assert components["adapter dedupe store"] == "adapter.legacy"
    assert components["sender started"] == "adapter.legacy"
    assert components["inside the block"] is None and components["after the block"] is None
    runtime_lines = [line for line in logged if line["logger"].startswith("adapters.")]
    assert len(runtime_lines) >= 3 and all(line.get("component") == "adapter.legacy" for line in runtime_lines)
