"""Handoffs that know the customer: which customer, which service tier, and when a deadline is re-timed.

The rules (issue #15):

* **Customer.** The handoff's customer is the one identity resolution placed it on: identity re-publishes the
  HandoffCreated on ``customer.contacts.v1`` under that customer, weighing every identifier of the event, so
  a shared landline or e-mail, or a mistyped account number, does not pick someone else (tester F1, F3).
  An operator's split or contact move re-publishes it under the new customer and wins over the original
  placement; a CustomerMerged moves it to the survivor (``CustomerDirectory.placed_on``). A change is
  announced by a HandoffStatusChanged whose ``customer_id`` is the new one (cause
  ``omnibus.identity.ContactPlacement``, causation the placement's event id). Until the placement is read,
  the customer is the current customer of the first of the handoff's identifiers identity has assigned
  (``CustomerDirectory.customer_of``; cause ``omnibus.identity.IdentifierAssignment``), and the placement
  corrects it when it arrives; the RECEIVED notification sent before it names no customer (the
  first identifier, a joint IBAN, belongs to the keeper; identity places the handoff on the holder the clerk or
  the IVR named, ``HandoffCreated.traits_event_id``). Once placed, the handoff keeps its placed customer
  (``customer_placed`` in its state, followed through merges) even when the placement has left the 7-day
  contacts topic, so a restart never hands it back to the identifier rule. A handoff never loses a customer it
  had because an identifier was unassigned.
* **Whatever its status**. A resolved or closed handoff follows identity's placement too (a
  placement read after the resolution, an operator's split, merge or contact move), announced the same way
  (same status, next version), so the CRM and ``omnibus report handoffs --by customer`` follow. It follows only
  identity's placement and the merges of the customer it has, never the identifier rule (an identifier's owner
  may change for reasons that are not this past case's, as a recycled phone number), and never its tier: a
  finished case's tier and deadline are history. A reopened case is open again and follows everything. What its
  customer lost (``HandoffState.relinquished``: a recycled or released number) is announced whatever the status, so
  a replay rebuilds it (``announced_view``), with ``needs_contact`` as announced (``needs_a_contact``).
* **Tier at creation.** The tier on HandoffCreated, if the origin channel is trusted
  (``tiers.trusted_channels``); else the customer's tier (highest active, ``TierPolicy``) if known; else
  the tier on the event (the channel's guess); else the policy's default tier.
* **Customer resolved later.** A handoff created with a guessed or default tier is re-timed once, when
  its customer's tier becomes known, in either direction: the working time already spent counts against
  the new tier's hours, and the new deadline is never before the moment of re-timing
  (``deadlines.retime_resolution_clock``). Rule ``customer-resolved`` in the deadline's lineage.
* **Customer corrected by placement.** When identity's placement moves the handoff to another customer
  (the first guess was the owner of a shared landline or of a mistyped account), the settled tier was
  the wrong customer's: the handoff is re-timed to the placed customer's tier as ``customer-resolved``
  above, in either direction, once per change of customer by placement (``follow``). If the placed
  customer's tier is not known in that step, the old tier stays and later changes follow the mid-case rule.
* **Tier changes mid-case.** Once settled, a change of the same customer's tier follows ``tiers.mid_case``:
  ``upgrade`` (default) re-times an open case to a higher tier forward only (the deadline never moves
  later, rule ``tier-upgrade``); a downgrade, or ``keep``, leaves the case's tier and deadline as they are.
* Only the owning team's clock (escalation tier 0) depends on the service tier; an escalated case
  records the new tier but keeps the deadline of its escalation step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bus.serde import Event
from processors.handoffs import deadlines
from processors.handoffs.config import HandoffPolicy, tier_key
from processors.handoffs.directory import UNKNOWN, CustomerTier, CustomerView
from processors.handoffs.metrics import count_unknown_tier
from processors.handoffs.notifications import delivery
from processors.handoffs.outputs import CREATED, STATUS_CHANGED
from processors.handoffs.state import DeadlineRule, HandoffState, TierSource
from processors.handoffs.tier_facts import BUSINESS, identifier_key

CUSTOMER_CAUSE = "omnibus.identity.IdentifierAssignment"
PLACEMENT_CAUSE = "omnibus.identity.ContactPlacement"  # not a record of its own: identity's placement of the handoff


@dataclass(frozen=True, slots=True)
class InitialTier:
    tier: str
    source: TierSource
    event_id: str | None = None


def initial_tier(policy: HandoffPolicy, event_tier: str | None, origin_channel: str, view: CustomerView) -> InitialTier:
    """The tier a new handoff starts with (``tier_key`` form); a channel's tier not in ``tiers.order`` is counted."""
    event_tier = tier_key(event_tier or "")
    if event_tier:
        count_unknown_tier(policy.tiers, event_tier, "handoff")
    if event_tier and origin_channel in policy.tiers.trusted_channels:
        return InitialTier(event_tier, TierSource.TRUSTED_CHANNEL)
    if view.tier is not None:
        return InitialTier(view.tier.tier, TierSource.CUSTOMER, view.tier.event_id)
    if event_tier:
        return InitialTier(event_tier, TierSource.CHANNEL)
    return InitialTier(policy.default_service_tier, TierSource.DEFAULT)


@dataclass(frozen=True, slots=True)
class Followed:
    """A state updated from the directory, and what caused it (a schema name and an event id, for the output)."""

    state: HandoffState
    cause: str
    causation_id: str | None
    retimed: DeadlineRule | None = None
    announce: bool = True  # False when only what is saved unpublished changed (``follow``)


def follow(policy: HandoffPolicy, state: HandoffState, view: CustomerView, at_us: int) -> Followed | None:
    """What the directory's view of the handoff's customer changes in ``state``, or None."""
    new, cause, causation, retimed = state, CUSTOMER_CAUSE, None, None
    # identity's placement names another customer: the settled tier was the wrong customer's, not a change of theirs
    corrected = view.placement is not None and view.customer_id not in (None, state.customer_id)
    if view.customer_id is not None and view.customer_id != state.customer_id:
        new = new.with_(customer_id=view.customer_id)
        if view.placement is not None:
            cause, causation = PLACEMENT_CAUSE, view.placement
    if view.placement is not None and not state.customer_placed:
        new = new.with_(customer_placed=True)
    if view.customer_id is not None and view.identifiers != state.addresses:
        new = new.with_(addresses=view.identifiers)
    if view.customer_id is not None and view.relinquished != state.relinquished:
        new = new.with_(relinquished=view.relinquished)  # announced: the events name the customer by the rest
    needs_contact = view.needs_contact if view.needs_contact is not None else needs_a_contact(policy, new)
    if needs_contact != new.needs_contact:
        new = new.with_(needs_contact=needs_contact)
    tier = view.tier if state.is_open else None  # a resolved or closed case's tier and deadline are its history
    if tier is not None and state.tier_source is not TierSource.TRUSTED_CHANNEL:
        settled = state.tier_source.settled and not corrected
        upgrade = policy.tiers.rank(tier.tier) > policy.tiers.rank(state.service_tier)  # ranks case-fold both
        if not settled or (upgrade and policy.tiers.mid_case == "upgrade"):
            rule = DeadlineRule.TIER_UPGRADE if settled else DeadlineRule.CUSTOMER_RESOLVED
            changed = _retier(policy, new, tier.tier, tier.event_id, at_us, rule)
            if changed is not new:
                retimed = rule if changed.deadline_us != new.deadline_us else None
                new, cause, causation = changed, tier.schema, tier.event_id
    if new == state:
        return None
    # saved, not published: the fallback addresses and the placed mark. What the customer lost is announced whatever
    # the case's status (the events name the customer by the rest), so a replay rebuilds it from the log.
    announce = new.with_(addresses=state.addresses, customer_placed=state.customer_placed) != state
    return Followed(new, cause, causation, retimed, announce)


def needs_a_contact(policy: HandoffPolicy, state: HandoffState) -> bool:
    """Whether no channel the policy allows can reach the case's customer (``notifications.delivery`` finds no
    address: its notifications go to the origin channel unaddressed) and either the customer lost a contact point of
    the case (``relinquished``), until a phone or an e-mail of theirs is known again, or the case names nobody: no
    identifier and no customer (``names_nobody``: a counter case with a name only, a call from a withheld number),
    which no screen pop shows either. A case whose identifiers identity has not yet placed is not marked."""
    if delivery(policy.notifications, state)[1] is not None:
        return False
    return bool(state.relinquished) or names_nobody(state)


def names_nobody(state: HandoffState) -> bool:
    """The case carries no identifier and no customer: nobody can be told of it, nor find it on a screen pop."""
    return not state.customer_identifiers and state.customer_id is None


def _retier(
    policy: HandoffPolicy, state: HandoffState, tier: str, event_id: str, at_us: int, rule: DeadlineRule
) -> HandoffState:
    if tier_key(tier) == tier_key(state.service_tier) and state.tier_source is TierSource.CUSTOMER:
        return state
    old_hours = policy.resolve_within_hours(state.case_type, state.service_tier)
    new_hours = policy.resolve_within_hours(state.case_type, tier)
    updated = state.with_(service_tier=tier, tier_source=TierSource.CUSTOMER, tier_event_id=event_id)
    if not state.is_open or state.tier != 0 or old_hours == new_hours:
        lineage = state.lineage
        if lineage is not None and state.tier == 0:
            lineage = deadlines.lineage(policy, updated, lineage.rule, lineage.resolve_within_hours,
                                        lineage.clock_started_us, lineage.previous_deadline_us)
        return updated.with_(lineage=lineage)
    retimed = deadlines.retime_resolution_clock(
        policy, updated, at_us, old_hours, new_hours, rule, forward_only=rule is DeadlineRule.TIER_UPGRADE,
    )
    if retimed is None and rule is DeadlineRule.TIER_UPGRADE:
        return state  # an upgrade that would not bring the deadline forward changes nothing
    return retimed or updated


def is_customer_cause(cause: str) -> bool:
    """Whether a HandoffStatusChanged's cause is a customer update (not a lifecycle event)."""
    return cause in (CUSTOMER_CAUSE, PLACEMENT_CAUSE) or cause.startswith(BUSINESS)


def announced_view(value: dict, state: HandoffState) -> CustomerView:
    """The directory view a customer-update HandoffStatusChanged of ``state``'s handoff was computed from (for
    replays). A placement that re-times in the same step is announced under the tier's business event (``follow``);
    it shows as a change of customer re-timed ``customer-resolved`` on a settled tier, which only a placement gives."""
    tier, placement = None, None
    cause, causation = value["cause"], value["envelope"]["causation_id"]
    if cause.startswith(BUSINESS):
        tier = CustomerTier(tier_key(value["service_tier"]), causation, cause)
        rule = (value.get("deadline_lineage") or {}).get("rule")
        if (state.tier_source.settled and state.customer_id not in (None, value.get("customer_id"))
                and rule == DeadlineRule.CUSTOMER_RESOLVED.value):
            placement = causation
    elif cause == PLACEMENT_CAUSE:
        placement = causation
    named = {identifier_key(i) for i in value.get("customer_identifiers") or ()}
    relinquished = tuple(sorted({identifier_key(i) for i in state.customer_identifiers} - named))
    return CustomerView(value.get("customer_id"), tier, state.addresses, placement, relinquished,
                        bool(value.get("needs_contact")))


def creation_view(value: dict) -> CustomerView:
    """The directory view the tracker created a handoff with, from its HandoffStatusChanged of cause
    HandoffCreated: the customer and, when the tier was the customer's (``tier_source`` CUSTOMER), that tier and
    its business event (``deadline_lineage.tier_event_id``). ``initial_tier`` given it decides as it did."""
    tier = None
    if value.get("tier_source") == TierSource.CUSTOMER.value:
        lineage = value.get("deadline_lineage") or {}
        tier = CustomerTier(tier_key(value["service_tier"]), lineage.get("tier_event_id") or "", BUSINESS)
    return CustomerView(value.get("customer_id"), tier)


@dataclass
class AnnouncedCreations:
    """What the tracker's directory said of each handoff when it was created, read back from its own
    announcements on ``handoff.events.v1`` (``omnibus replay``, ``omnibus verify``: a rebuild has no directory).
    Serves ``view`` as the directory does at creation, so the rebuild's HandoffCreated starts on the customer
    and tier the running tracker had (a gold customer known at creation was rebuilt on the default
    tier)."""

    views: dict[str, CustomerView] = field(default_factory=dict)

    def read(self, event: Event) -> None:
        """Keep the first creation announcement (HandoffStatusChanged, cause HandoffCreated) of each handoff."""
        if event.schema == STATUS_CHANGED and event.value.get("cause") == CREATED:
            self.views.setdefault(event.value["handoff_id"], creation_view(event.value))

    def view(self, handoff_id: str, identifiers: tuple[dict[str, str], ...], policy: HandoffPolicy,
             placed_before: str | None = None, *, wary: bool = False) -> CustomerView:
        """The customer view handoff ``handoff_id`` was created with (``UNKNOWN`` when none was announced)."""
        return self.views.get(handoff_id, UNKNOWN)
