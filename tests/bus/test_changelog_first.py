"""Offsets are committed only after faust's producer delivered the changelog records written before them."""

from __future__ import annotations

from faust.transport.consumer import Consumer

from bus.changelog_first import changelog_first, install


async def test_a_commit_waits_for_the_producer_to_deliver_what_it_was_given() -> None:
    calls: list[str] = []

    class Producer:
        async def flush(self) -> None:
            calls.append("flush")

    async def commit(self: object, offsets: object, start_new_transaction: bool = True) -> bool:
        calls.append(f"commit {offsets}")
        return True

    consumer = type("C", (), {"app": type("App", (), {"producer": Producer()})()})()
    assert await changelog_first(commit)(consumer, {"tp": 10}) is True
    assert calls == ["flush", "commit {'tp': 10}"]


def test_installed_once_on_faust_s_consumer() -> None:
    install()
    patched = Consumer._commit_offsets
    install()
    assert Consumer._commit_offsets is patched and patched.omnibus_changelog_first  # type: ignore[attr-defined]
