"""The baseline resolver's typed state: one record per identifier and per customer, held in memory.

Member values are the graph's one-int form (``graph.limits.member``: rank above the assignment
version), so the limit helpers of the graph apply to them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from processors.identity.matching.traits import Summary


@dataclass(slots=True)
class IdentifierState:
    """One identifier (``TYPE:value`` key).

    ``owner``: the customer id it was last assigned to (resolve it with ``find``: merged customers point on);
    ``version``: that assignment's version; ``rank``: smallest event rank that carried it (limited types
    only, ``graph.limits.event_rank``); ``shared``: it stopped linking (``shared_after``); ``others``: the
    customers a link through it was refused with (raw ids, as the graph keeps them).
    """

    owner: str | None = None
    version: int = 0
    rank: int | None = None
    shared: bool = False
    others: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CustomerState:
    """One customer. A root has ``members`` (``{identifier key: member int}``); a merged one only ``parent``.

    ``born``: the birth instant (epoch µs) of the event that created it; ``traits``: the matcher's trait summary.
    """

    members: dict[str, int]
    born: int
    parent: str | None = None
    traits: Summary | None = None
