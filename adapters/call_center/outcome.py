"""How a call ended (``InteractionRecorded.outcome``, ``omnibus.contact.InteractionOutcome``), from what the source
reports, so that first-contact resolution counts calls without a wrap-up mapping of its own.

In order, the first that applies:

1. ``ABANDONED``: queued and never connected to an agent (``Call.abandoned``).
2. ``TRANSFERRED``: a next contact exists, or the source says the call was transferred.
3. ``HANDED_OFF``: the call opened a back-office handoff (``omnibus_handoff_kind``, ``docs/handoffs.md``): the case
   left the front line, as the web hall's service requests do.
4. The agent's wrap-up code (``Call.disposition``: a CTR's ``disposition`` attribute, Asterisk's ``userfield``, a
   TaskRouter task's ``disposition`` or Flex ``conversations.outcome``), through the setting
   ``OMNIBUS_ADAPTER_CALL_CENTER__DISPOSITION_OUTCOMES`` (code -> outcome, matched without case). A code that names
   an outcome needs no setting: ``resolved``, ``Unresolved``, ``handed-off``, ``handed off`` (a new user's CTR with
   ``disposition: "resolved"`` was counted ``UNKNOWN``).
5. The source's own end state (``ended``, set by each mapper from its vendor's fields, below): a call that reached
   no one is ``ABANDONED`` (outside first-contact resolution, as the KPIs define it: ``docs/kpis.md``); a connected
   call cut off by the network is ``UNRESOLVED`` (the customer has to call again).
6. ``UNKNOWN``: an answered call's resolution is not something telephony knows.

The vendors' end states, each from its vendor's documentation:

- Asterisk CDR ``disposition`` (``ASTERISK_ENDED``): ``ANSWERED``, ``NO ANSWER``, ``BUSY``, ``FAILED``, ``CONGESTION``
  (Asterisk CDR specification, docs.asterisk.org, Configuration / Reporting / Call Detail Records / CDR
  Specification: "disposition: what happened to the call"). Every one but ``ANSWERED`` reached no one.
- Amazon Connect CTR ``DisconnectReason`` (``CONNECT_ENDED``; Amazon Connect Administrator Guide, "Contact records
  data model", ContactTraceRecord.DisconnectReason): ``TELECOM_PROBLEM`` (the call dropped: a network problem, not
  a party), and the outbound campaign codes ``OUTBOUND_DESTINATION_ENDPOINT_ERROR``, ``OUTBOUND_RESOURCE_ERROR``,
  ``OUTBOUND_ATTEMPT_FAILED`` (the customer was never reached). ``CUSTOMER_DISCONNECT``, ``AGENT_DISCONNECT``,
  ``THIRD_PARTY_DISCONNECT``, ``CONTACT_FLOW_DISCONNECT``, ``BARGED``, ``API``, ``EXPIRED``, ``OTHER`` say who hung
  up, not whether the customer's need was met: no outcome.
- Twilio TaskRouter (``TASKROUTER_ENDED``; TaskRouter Event Reference, twilio.com/docs/taskrouter/api/event/reference):
  ``task.canceled`` (the caller hung up, or the task was cancelled, before it was worked) and ``task.timeout`` (the
  task's timeout passed before it was completed) reached no one when no reservation was accepted.
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas.enums import INTERACTION_OUTCOMES

ABANDONED, TRANSFERRED = "ABANDONED", "TRANSFERRED"
UNRESOLVED, UNKNOWN = "UNRESOLVED", "UNKNOWN"
REACHED_NO_ONE = ABANDONED  # never reached anyone: outside first-contact resolution (processors/kpis/rules.py)

ASTERISK_ENDED = {"NO ANSWER": REACHED_NO_ONE, "BUSY": REACHED_NO_ONE, "FAILED": REACHED_NO_ONE,
                  "CONGESTION": REACHED_NO_ONE}
CONNECT_ENDED = {"OUTBOUND_DESTINATION_ENDPOINT_ERROR": REACHED_NO_ONE, "OUTBOUND_RESOURCE_ERROR": REACHED_NO_ONE,
                 "OUTBOUND_ATTEMPT_FAILED": REACHED_NO_ONE}
CONNECT_DROPPED = "TELECOM_PROBLEM"
TASKROUTER_ENDED = {"task.canceled": REACHED_NO_ONE, "task.timeout": REACHED_NO_ONE}


def code_key(code: str) -> str:
    """A wrap-up code as it is matched: ``handed-off``, ``Handed Off`` and ``HANDED_OFF`` are one code."""
    return "_".join(code.replace("-", " ").upper().split())


def wrap_up_outcome(disposition: str | None, outcomes: Mapping[str, str]) -> str | None:
    """The outcome the agent's wrap-up code ``disposition`` stands for: ``outcomes`` (code -> outcome, keys as
    ``code_key`` makes them) first, then a code that names an outcome itself; None when it says nothing."""
    if not disposition:
        return None
    key = code_key(disposition)
    found = outcomes.get(key)
    if found is not None:
        return found
    return key if key in INTERACTION_OUTCOMES else None


def connect_ended(disconnect_reason: str | None, connected: bool) -> str | None:
    """The outcome a CTR's ``DisconnectReason`` implies (see the module docstring), or None."""
    if disconnect_reason == CONNECT_DROPPED:
        return UNRESOLVED if connected else REACHED_NO_ONE
    return CONNECT_ENDED.get(disconnect_reason or "")


def asterisk_ended(cdr_disposition: str) -> str | None:
    """The outcome an Asterisk CDR's ``disposition`` column implies, or None (``ANSWERED``)."""
    return ASTERISK_ENDED.get(cdr_disposition.strip().upper())


def taskrouter_ended(event_type: str, connected: bool) -> str | None:
    """The outcome a TaskRouter terminal event implies for a task no worker accepted, or None."""
    return None if connected else TASKROUTER_ENDED.get(event_type)
