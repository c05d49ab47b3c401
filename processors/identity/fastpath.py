"""The worker's view of ``customer.identifiers.v1``, which sends repeat contacts straight to their customer.

In a contact-center stream 70–85% of events carry only identifiers that already belong to one customer
(#9 build 2). For those, intake sends one ``fast`` message to the customer's root, with the assignment
version it believes each identifier has, instead of a saga that visits every identifier node first;
the root checks the claim against its member list and takes the slow path itself when the view was
stale (``graph/fast_node.py``). The view is therefore only a guess, and may be incomplete or old:

* it learns from the ``Assigned`` decisions this worker publishes (once Kafka acknowledged them) and
  from the rows other workers publish on the compacted topic (``IdentifierRowReader``), keeping per
  identifier the row of the highest version (the reader rule, ``processors.identity.assignments``);
* a tombstone removes the identifier;
* it holds at most ``max_identifiers`` identifiers (oldest learned first out): a miss costs the slow
  path, never a wrong answer. At about 200 bytes an entry, a million identifiers take ~200 MB.
"""

from __future__ import annotations

from collections.abc import Iterable

from processors.identity.assignments import supersedes
from processors.identity.graph.outputs import Assigned, Output, Unassigned

DEFAULT_MAX_IDENTIFIERS = 1_000_000


class AssignmentView:
    """``identifier key -> (customer id, assignment version)``, bounded."""

    def __init__(self, max_identifiers: int = DEFAULT_MAX_IDENTIFIERS) -> None:
        self._rows: dict[str, tuple[str, int]] = {}
        self._max = max_identifiers

    def __len__(self) -> int:
        return len(self._rows)

    def learn(self, key: str, customer_id: str, version: int) -> None:
        held = self._rows.get(key)
        if not supersedes(version, None if held is None else held[1]):
            return
        if held is None and len(self._rows) >= self._max:
            del self._rows[next(iter(self._rows))]  # the oldest learned: a miss only costs the slow path
        self._rows[key] = (customer_id, version)

    def forget(self, key: str) -> None:
        self._rows.pop(key, None)

    def learn_outputs(self, outputs: Iterable[Output]) -> None:
        """Learn the assignments and evictions among ``outputs`` (call once they are acknowledged by Kafka)."""
        for output in outputs:
            if isinstance(output, Assigned):
                self.learn(output.identifier, output.customer_id, output.version)
            elif isinstance(output, Unassigned):
                self.forget(output.identifier)

    def claim(self, keys: Iterable[str]) -> tuple[str, dict[str, int]] | None:
        """``(customer id, {key: version})`` when every key belongs to one customer by the view, else None."""
        customer: str | None = None
        claims: dict[str, int] = {}
        for key in keys:
            row = self._rows.get(key)
            if row is None or (customer is not None and row[0] != customer):
                return None
            customer = row[0]
            claims[key] = row[1]
        return None if customer is None else (customer, claims)
