"""A front line's request to hand the case to the back office -> ``omnibus.handoff.HandoffCreated``.

Call-center agents (or the IVR) and counter clerks open a handoff with a few fields on the record their
system already sends: the kind of case (``HandoffCreated.case_type``, which with the service tier picks the
team and the deadline in the tracker's policy), a short summary, and optionally the team the front line
asked for (kept in ``intake_facts["requested_team"]``: the tracker's policy decides the routing, a transfer
moves it). The handoff id derives from the contact or transaction id (``handoff_id``), and the event id from
the same, so a re-sent record opens no second case. The event goes to ``handoff.events.v1`` keyed by the
handoff id, like the web hall's service-request tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.base.issuers import scoped_id
from bus.errors import OmnibusError
from bus.handoff_limits import MAX_KIND_CHARS, MAX_SUMMARY_CHARS, MAX_TEAM_CHARS
from bus.redact import free_text
from bus.serde import Event

if TYPE_CHECKING:
    from bus.references import References

# Attribute names on a Connect contact or a TaskRouter task (set by the contact flow or the agent's form).
KIND, TEAM, SUMMARY = "omnibus_handoff_kind", "omnibus_handoff_team", "omnibus_handoff_summary"
ATTRIBUTES = (KIND, TEAM, SUMMARY)
MAX_CHARS = {KIND: MAX_KIND_CHARS, TEAM: MAX_TEAM_CHARS, SUMMARY: MAX_SUMMARY_CHARS}  # bus.handoff_limits
REQUESTED_TEAM = "requested_team"  # intake_facts key of the team the front line asked for
HANDOFF_CREATED = "omnibus.handoff.HandoffCreated"  # the schema of a handoff's creation, whichever channel opens it
# What the answer to the clerk or agent says of a case that names no identifier of the customer: the tracker marks it
# needs_contact from its first status (``processors.handoffs.customers.names_nobody``, the gauge
# ``omnibus_handoff_needing_contact``), said while the customer is still at the counter or on the line.
NAMES_NOBODY = ("this case names no phone, e-mail or other identifier of the customer: nobody will be notified of "
                "it, nor see it on a screen pop; add a phone or e-mail")


def names_nobody(event: Event) -> str | None:
    """The ``handoff_id`` of ``event`` when it is a ``HandoffCreated`` that names no identifier of the customer
    (``customer_identifiers`` empty), else None."""
    if event.schema != HANDOFF_CREATED or event.value.get("customer_identifiers"):
        return None
    return str(event.value["handoff_id"])
# InteractionRecorded.outcome of a contact that opened a handoff, whatever else it reports: the case left the
# front line (first-contact resolution counts it as not resolved, docs/kpis.md)
HANDED_OFF = "HANDED_OFF"


class BadHandoffRequest(OmnibusError, ValueError):
    """``field`` is missing (``missing``) or malformed; ``str()`` says why."""

    def __init__(self, field: str, why: str, *, missing: bool = False) -> None:
        self.field = field
        self.missing = missing
        super().__init__(why)


def handoff_id(channel_prefix: str, source_system: str, record_id: str) -> str:
    """``<channel>:<source system>:<record id>``, e.g. ``call:amazon-connect:<ContactId>``: one handoff per
    contact or transaction, however often its record is re-sent; the record id scoped by its issuer
    (``adapters.base.issuers``)."""
    return scoped_id(channel_prefix, source_system, record_id)


def _text(value: Any, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise BadHandoffRequest(field, f"must be text, got {type(value).__name__}")
    if len(value.strip()) > MAX_CHARS[field]:
        raise BadHandoffRequest(field, f"longer than {MAX_CHARS[field]} characters")
    return value.strip()


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    kind: str  # the case type, e.g. meter-dispute, line-repair
    summary: str | None = None
    team: str | None = None

    @classmethod
    def parse(cls, kind: Any, team: Any = None, summary: Any = None) -> HandoffRequest | None:
        """None when no handoff was asked for (all empty); raises ``BadHandoffRequest`` when a team or
        summary comes without a kind, or a value is not text or too long."""
        kind_text, team_text, summary_text = _text(kind, KIND), _text(team, TEAM), _text(summary, SUMMARY)
        if kind_text is None:
            if team_text or summary_text:
                raise BadHandoffRequest(KIND, "is required to open a handoff (the kind of case, e.g. line-repair)",
                                        missing=True)
            return None
        return cls(kind_text.lower(), summary_text, team_text)

    @classmethod
    def from_attributes(cls, attributes: dict[str, Any]) -> HandoffRequest | None:
        """``parse`` of the ``omnibus_handoff_*`` attributes of a contact or task."""
        return cls.parse(*(attributes.get(name) for name in (KIND, TEAM, SUMMARY)))

    def event(self, *, envelope: dict[str, Any], handoff_id: str, channel: str, identifiers: list[dict[str, str]],
              site: str | None, interaction_id: str, actor: dict[str, str], facts: dict[str, str | None],
              traits_event_id: str | None, references: References | None = None) -> Event:
        """The ``HandoffCreated`` (every field filled); ``facts``: intake facts as text (None values dropped);
        ``traits_event_id``: the record with the customer's traits that the contact names too (identity places the
        handoff with them, as it places the contact: a joint account's other holder); ``references``: the
        adapter's declared business references, whose ``name: value`` pairs the summary keeps whole:
        a value ``facts`` holds under that name, or one with no identifier written in it (``References.text``)."""
        intake = {k: str(v) for k, v in facts.items() if v not in (None, "")}
        if self.team:
            intake[REQUESTED_TEAM] = self.team
        return Event(HANDOFF_CREATED, {
            "envelope": envelope,
            "handoff_id": handoff_id,
            "customer_identifiers": identifiers,
            "case_type": self.kind,
            # what the agent or customer typed, without identifier values (the web's rule)
            # a declared reference quoted as its intake fact has it is kept whole
            "summary": (references.text(self.summary, intake) if references else free_text(self.summary))
            if self.summary
            else f"{self.kind} handed off from {channel.lower().replace('_', ' ')}",
            "intake_facts": intake,
            "origin_channel": channel,
            "origin_site": site,
            "origin_interaction_id": interaction_id,
            "service_tier": None,  # the tracker uses the tier it knows for the customer
            "actor": actor,
            "traits_event_id": traits_event_id,
        })
