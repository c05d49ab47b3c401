"""Feeds the fast path's view with the rows every worker writes to ``customer.identifiers.v1``.

A worker learns its own assignments as it publishes them (``AssignmentView.learn_outputs``); the rows
decided by the other workers arrive here: a consumer outside the group reads every partition of the
compacted topic from the start and keeps following it. A row it cannot decode is skipped (the view
is only a guess, checked at the customer's root); a tombstone removes the identifier. A row whose writer schema
the registry does not answer for is not skipped: the feed waits (``bus.follow``, ``bus.registry_outage``).
"""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord

from bus.config import OmnibusSettings
from bus.follow import TopicFollower
from bus.logging import get_logger
from bus.registry_outage import is_outage
from bus.serde import Deserializer, SerdeContext
from bus.topics import CUSTOMER_IDENTIFIERS
from processors.identity.fastpath import AssignmentView

log = get_logger(__name__, component="identity")


class ViewFeed(TopicFollower):
    def __init__(
        self, settings: OmnibusSettings, view: AssignmentView, deserializer: Deserializer, *, poll_ms: int = 200,
    ) -> None:
        super().__init__(settings, [CUSTOMER_IDENTIFIERS], "identity-view-feed", poll_ms=poll_ms)
        self._view, self._deserializer = view, deserializer
        self._topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
        # The last row decoded, with the bytes it came from: the assignment repair listens to the same records
        # right after (``assignments_repair.assignment_repair``) and reads it here instead of decoding it again.
        self.last_row: tuple[bytes, dict[str, Any]] | None = None

    def on_record(self, record: ConsumerRecord) -> None:
        self.apply(record.key, record.value)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Learn one row (``IdentifierAssignment`` Avro, key ``TYPE:value``); a tombstone forgets the key."""
        if key is None:
            return
        identifier = key.decode(errors="replace")
        if value is None:
            self._view.forget(identifier)
            return
        try:
            row = self._deserializer(value, SerdeContext(topic=self._topic, key=key)).value
            self.last_row = (value, row)
            self._view.learn(identifier, row["customer_id"], int(row.get("version") or 0))
        except Exception as error:  # noqa: BLE001 - a row the view cannot read only costs the slow path
            if is_outage(error):
                raise  # the registry did not answer: the follower waits and calls again (bus.follow)
            log.warning("fast-path view skipped a row it could not decode", topic=self._topic)
