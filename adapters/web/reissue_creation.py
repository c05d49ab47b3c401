"""A web service request the handoff tracker refused as ``duplicate_creation``, opened again as a case of its own
for an operator (``omnibus deadletters redrive --new-id``).

The web hall refuses another service request under a used ``request_id``/``case_id`` (``request_id_conflict``)
only when the same adapter process took the first one: its dedupe file holds the claim. With several replicas the
other replica answers 200 and publishes the second ``HandoffCreated`` under the same handoff id, which the tracker,
the one place that sees every creation, dead-letters as ``IllegalTransition:duplicate_creation``. This maps that
dead letter's record to the one the web hall's ``--new-id`` would open (``adapters.web.reissue``): the handoff id
``<case id>:<8 hex>``, the 8 hex being those of the message's content digest, which the record carries as the suffix
of its ``origin_interaction_id`` (``<messageId>:<8 hex>``, ``adapters.base.mapper.content_id``). So the second
request gets the same case id whichever replica took it, and re-issuing its dead letter twice names one case.

The tracker is not changed: opening the case itself would mean publishing, from inside it, a creation keyed by
another id on another partition (the topic is keyed by handoff id), and the same form sent again under a new
``messageId`` (one case on one replica) reaches it the same way. The operator reads the dead letter
(``deadletters show``) and decides, as for the web hall's own refusals.

Only a creation the web hall published qualifies (``origin_channel`` WEB with a content-derived
``origin_interaction_id``): the other channels' case ids are their systems' own, and a reused one is theirs to mend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.base.mapper import CONTENT_ID_HEX, content_id
from bus.envelope import event_id
from bus.errors import OmnibusError

REISSUED_FROM_FACT = "reissued_from"  # intake fact of the new case: the handoff id the request was refused under
_DISCRIMINATOR = "handoff:reissued"  # the new event's id: from the refused event's, so twice names one event
_SUFFIX = re.compile(rf"^.+:(?P<hex>[0-9a-f]{{{CONTENT_ID_HEX}}})$")  # ``content_id``'s form


class NotReissuable(OmnibusError):
    """The dead letter's record is not a web service request's ``HandoffCreated`` (the message says why)."""


def reissued_creation(value: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """The new ids (``handoff_id`` -> the new case id) and the ``HandoffCreated`` value (Avro record as a dict) to
    publish, keyed by that id, for the decoded ``value`` of a creation refused as ``duplicate_creation``: handoff id
    ``<handoff id>:<8 hex>``, ``source_event_id`` ``<messageId>:<8 hex>`` (the web hall's new ``messageId``), an event
    id derived from the refused one, ``causation_id`` the refused event's id, and the intake fact
    ``reissued_from`` naming the first case. Raises ``NotReissuable`` for any other channel's creation or one without
    a content-derived ``origin_interaction_id``."""
    if value.get("origin_channel") != "WEB":
        raise NotReissuable(f"a case opened by {value.get('origin_channel')} keeps its system's own id: that system "
                            "must send it again under another one")
    found = _SUFFIX.match(str(value.get("origin_interaction_id") or ""))
    if found is None:
        raise NotReissuable("the creation names no web message with a content digest (origin_interaction_id)")
    digest = bytes.fromhex(found["hex"])
    old = value["envelope"]
    new_ids = {"handoff_id": content_id(str(value["handoff_id"]), digest)}
    # the web hall's new messageId for the message (``adapters.web.reissue``): its ``origin_interaction_id`` as it is
    envelope = {**old, "event_id": event_id(old["source_system"], old["event_id"], _DISCRIMINATOR),
                "source_event_id": found[0], "causation_id": old["event_id"]}
    facts = {**value["intake_facts"], REISSUED_FROM_FACT: str(value["handoff_id"])}
    return new_ids, {**value, "envelope": envelope, "handoff_id": new_ids["handoff_id"], "intake_facts": facts}
