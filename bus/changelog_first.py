"""No offset is committed before the state changes made for it are in their changelogs (#13 build 5).

faust attaches a table's changelog record to the event being processed when the table is written with
``table[key] = value`` inside a stream, and commits that event's offset only once the record was sent
(``Consumer._handle_attached``). Tables written through ``Table.send_changelog`` (identity's node and
profile tables, ``processors/identity/store.py``, which choose the changelog partition themselves) are
not attached: the records wait in faust's producer buffer while the offsets of the records that caused
them are committed. A worker killed (``kill -9``) in between loses those state changes, and its
successor restores an older state without reprocessing the records: sagas stop halfway (seen in
``tests/faults/test_workers.py``: 66 contacts never re-keyed, 19 identifiers never assigned).

``install`` makes every commit of every faust consumer in the process first wait until faust's
producer has delivered everything it was given (``Producer.flush``: its buffer, then Kafka's
acknowledgement). A commit waits a little longer; nothing committed is ahead of its state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


def changelog_first(original: Callable[..., Awaitable[bool]]) -> Callable[..., Awaitable[bool]]:
    """``Consumer._commit_offsets`` that first flushes the app's producer, then commits as ``original``."""

    async def _commit_offsets(self: Any, offsets: Any, start_new_transaction: bool = True) -> bool:
        await self.app.producer.flush()  # every changelog record written before these offsets, acknowledged
        return await original(self, offsets, start_new_transaction=start_new_transaction)

    _commit_offsets.omnibus_changelog_first = True  # type: ignore[attr-defined]
    return _commit_offsets


def install() -> None:
    """Patch faust's ``Consumer._commit_offsets`` once per process."""
    from faust.transport.consumer import Consumer

    if not getattr(Consumer._commit_offsets, "omnibus_changelog_first", False):
        Consumer._commit_offsets = changelog_first(Consumer._commit_offsets)  # type: ignore[method-assign,assignment]
