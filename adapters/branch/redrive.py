"""A counter event refused at the branch adapter's ingress, mapped again from its sealed body (``omnibus deadletters
redrive``): as ``BranchIngress._upload`` maps it, for the terminal and branch its dead letter names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base.errors import BAD_JSON, RejectedInput
from adapters.base.redrive import NotRemappable, events_of
from adapters.branch.config import BranchSettings
from adapters.branch.ingress import BRANCH_HEADER, TERMINAL_HEADER
from adapters.branch.mapper import CounterMapper
from bus.producer import Outgoing


def remapped(body: bytes, headers: Mapping[str, str], received_at: datetime, mapper: CounterMapper,
             settings: BranchSettings, published: bytes | None = None) -> tuple[Outgoing, ...]:
    """The events of the counter event ``body``; raises ``NotRemappable`` (a whole upload, no terminal or branch) or
    ``RejectedInput`` (refused again). ``published``: for a part refused while the rest of the event was published,
    the event as it came then: the events keep the ids it gave (they derive from its content, which a correction
    changes), so the part names the visit that was published."""
    terminal = headers.get(TERMINAL_HEADER)
    branch = headers.get(BRANCH_HEADER) or (settings.terminal_branches.get(terminal) if terminal else None)
    if not terminal or not branch:
        raise NotRemappable("the dead letter names no terminal and branch: a whole upload refused (the counter agent "
                            "sends it again), or one refused by an older version")
    event = _read(body)
    as_published = _read(published) if published is not None else None
    return events_of([mapper(event, terminal_id=terminal, branch_id=branch, received_at=received_at,
                             published=as_published)], headers)


def _read(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise RejectedInput("the body is not JSON", code=BAD_JSON) from None
