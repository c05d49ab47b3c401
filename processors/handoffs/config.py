"""What the handoff tracker is told: routing, team calendars (``calendar_config``), SLA policies, escalation
chains, acknowledgement.

Two layers: ``HandoffsSettings`` (process settings from ``OMNIBUS_PROCESSOR_HANDOFFS__*``) and
``HandoffPolicy`` (the business rules, from a YAML or JSON file named by ``policy_file``). Both are
frozen and reject unknown keys. Without a file the policy is the classic rule: one ``back-office``
team working round the clock, 20 hours to resolve, each escalation tier another 20 hours.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator

from bus.config import load_component_settings
from bus.errors import ConfigError
from bus.tick_gate import MAX_DEFER_S
from bus.validation_errors import describe_validation_error
from processors.handoffs.calendar import BusinessCalendar
from processors.handoffs.calendar_config import Frozen, TeamCalendar
from processors.handoffs.notification_templates import (
    BUILT_IN_TEMPLATES,
    check_templates,
    language_tag,
    template_language,
)
from processors.handoffs.retention import CLOSED_KEPT_S, TOMBSTONE_KEPT_S, Retention
from schemas.enums import CHANNELS, IDENTIFIER_TYPES

ENV_PREFIX = "OMNIBUS_PROCESSOR_HANDOFFS__"
CLASSIC_RESOLVE_HOURS = 20.0


def tier_key(tier: str) -> str:
    """The one form the tracker compares, ranks and publishes service tier names in: stripped and case-folded
    (``" GOLD"`` -> ``"gold"``). Billing exports write upper-case codes, policy files lower case."""
    return tier.strip().casefold()


TierName = Annotated[str, AfterValidator(tier_key)]  # a tier name of the policy file, in ``tier_key`` form


class EscalationStep(Frozen):
    """One tier above the owning team: who is told, and how long they get (in working hours)."""

    role: str = Field(description="e.g. team-lead, manager, head.")
    team: str | None = Field(None, description="Team or queue that receives the escalation; default '<team>/<role>'.")
    owner_id: str | None = Field(None, description="Employee id of the person escalated to, if one person.")
    resolve_within_hours: float = Field(CLASSIC_RESOLVE_HOURS, gt=0)

    def queue(self, team: str | None) -> str:
        """The team or queue an escalation of ``team``'s handoffs to this tier goes to."""
        return self.team or f"{team}/{self.role}"


DEFAULT_CHAIN = (EscalationStep(role="team-lead"), EscalationStep(role="manager"), EscalationStep(role="head"))


class Team(Frozen):
    name: str
    display_name: str | dict[str, str] | None = Field(
        None, description="What customers are told the team is called (``{team}`` in their notifications): one name, "
        "or one per language tag (``{es: disputas con tarjeta, en: card disputes}``, matched as templates are); "
        "None, or no name for the language: the team's name (its id).")
    calendar: str = "default"
    receiving_system: str | None = Field(None, description="System expected to acknowledge; None: any system.")
    escalation_chain: tuple[EscalationStep, ...] = DEFAULT_CHAIN

    @model_validator(mode="after")
    def _display_name_languages(self) -> Team:
        if isinstance(self.display_name, dict):
            for tag in self.display_name:
                language_tag(tag, f"team {self.name!r}: display_name language")
        return self

    def customer_name(self, lang: str) -> str | None:
        """The team's ``display_name`` for a message in ``lang`` (RFC 4647 lookup); None when it has none."""
        if not isinstance(self.display_name, dict):
            return self.display_name
        return self.display_name.get(template_language(lang, self.display_name, ""))


class RoutingRule(Frozen):
    """Case types (shell patterns) and optional service tiers that go to a team; the first match wins."""

    name: str
    team: str
    case_types: tuple[str, ...] = ("*",)
    service_tiers: tuple[TierName, ...] = ()

    def matches(self, case_type: str, service_tier: str) -> bool:
        return _matches(self.case_types, self.service_tiers, case_type, service_tier)


class SlaPolicy(Frozen):
    """Working hours to resolve, by case type (patterns) x service tier; the first match wins."""

    case_types: tuple[str, ...] = ("*",)
    service_tiers: tuple[TierName, ...] = Field((), description="Empty: every tier.")
    resolve_within_hours: float = Field(gt=0)

    def matches(self, case_type: str, service_tier: str) -> bool:
        return _matches(self.case_types, self.service_tiers, case_type, service_tier)


def _matches(case_types: tuple[str, ...], service_tiers: tuple[str, ...], case_type: str, service_tier: str) -> bool:
    """A rule's match: any of its case type patterns, and its tiers (``tier_key`` form) if it names any."""
    tier_ok = not service_tiers or tier_key(service_tier) in service_tiers
    return tier_ok and any(fnmatchcase(case_type, pattern) for pattern in case_types)


class AcknowledgementPolicy(Frozen):
    timeout_minutes: float = Field(30.0, gt=0, description="Wall-clock time a receiving system has to acknowledge.")
    max_resends: int = Field(3, ge=0, description="Re-sends of the work order before the alarms stop.")


def _check_names(what: str, names: Iterable[str], known: frozenset[str]) -> None:
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; known: {sorted(known)}")


class TierPolicy(Frozen):
    """Service tiers: their order, the tiers products confer, whose word counts, and changes mid-case.

    A customer's tier is the highest, by ``order``, of the tiers of their open accounts
    (``AccountOpened.service_tier``) and active subscriptions (``products``: product code -> tier); a tier
    not in ``order`` ranks below every listed one (and is counted, ``omnibus_handoff_unknown_service_tiers_total``).
    Tier names are compared in ``tier_key`` form everywhere: ``GOLD`` from a billing export is the policy's
    ``gold``. A tier on ``HandoffCreated`` is the channel's guess, replaced by the customer's tier once known,
    unless the origin channel is in ``trusted_channels``.
    ``mid_case`` is the rule for a tier that changes after it was settled: ``upgrade`` re-times an open
    case to a higher tier forward only (the deadline never moves later; a downgrade changes nothing),
    ``keep`` never re-times.
    """

    order: tuple[TierName, ...] = Field(("basic", "standard", "premium", "gold", "platinum"),
                                        description="Service tiers, lowest first.")
    products: dict[str, TierName] = Field(default_factory=dict, description="Product code -> tier it confers.")
    trusted_channels: tuple[str, ...] = Field((), description="Origin channels whose HandoffCreated tier is final.")
    mid_case: Literal["upgrade", "keep"] = "upgrade"

    @model_validator(mode="after")
    def _known_channels(self) -> TierPolicy:
        _check_names("trusted channel", self.trusted_channels, CHANNELS)
        return self

    def rank(self, tier: str | None) -> int:
        """Position of ``tier`` in ``order`` (``tier_key`` form); -1 for None or a tier not listed."""
        key = tier_key(tier) if tier is not None else None
        return self.order.index(key) if key in self.order else -1


class NotificationPolicy(Frozen):
    """Who can carry a customer notification to which identifier.

    ``addresses``: per channel, the identifier types it can reach a customer by, preferred first. The
    notification goes to the origin channel at the first such identifier the handoff came with (the one
    seen there), else to the first channel of ``fallback`` that can reach one of the customer's known
    identifiers, else to the origin channel without an address.

    ``templates``: per language (BCP 47 tag), the text of each kind of notification; ``default_language``: the
    language written in when the case does not say the customer's (``notification_templates``).
    """

    addresses: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {
        "WEB": ("USER_ID", "EMAIL"), "CALL_CENTER": ("PHONE",), "BRANCH": ("PHONE", "EMAIL"),
    })
    fallback: tuple[str, ...] = ("WEB", "CALL_CENTER")
    default_language: str = "en"
    templates: dict[str, dict[str, str]] = Field(default_factory=lambda: {
        lang: dict(by_kind) for lang, by_kind in BUILT_IN_TEMPLATES.items()})

    @model_validator(mode="after")
    def _known_names(self) -> NotificationPolicy:
        _check_names("notification channel", [*self.addresses, *self.fallback], CHANNELS)
        _check_names("identifier type", [t for types in self.addresses.values() for t in types], IDENTIFIER_TYPES)
        check_templates(self.templates)
        if self.default_language not in self.templates:
            raise ValueError(f"notifications.default_language {self.default_language!r} has no templates "
                             f"(languages: {', '.join(sorted(self.templates))})")
        return self

    @cached_property
    def reachable_types(self) -> frozenset[str]:
        return frozenset(t for types in self.addresses.values() for t in types)


class HandoffPolicy(Frozen):
    calendars: dict[str, TeamCalendar] = Field(default_factory=lambda: {"default": TeamCalendar()})
    teams: tuple[Team, ...] = (Team(name="back-office"),)
    default_team: str = "back-office"
    routing: tuple[RoutingRule, ...] = ()
    sla: tuple[SlaPolicy, ...] = ()
    default_resolve_within_hours: float = Field(CLASSIC_RESOLVE_HOURS, gt=0)
    default_service_tier: TierName = "standard"
    warning_percents: tuple[int, ...] = (50, 75)
    acknowledgement: AcknowledgementPolicy = AcknowledgementPolicy()
    tiers: TierPolicy = TierPolicy()
    notifications: NotificationPolicy = NotificationPolicy()

    @model_validator(mode="after")
    def _references_resolve(self) -> HandoffPolicy:
        names = [team.name for team in self.teams]
        if len(set(names)) != len(names):
            raise ValueError("team names must be unique")
        for team_name in [self.default_team, *(rule.team for rule in self.routing)]:
            if team_name not in names:
                raise ValueError(f"team {team_name!r} is routed to but not defined in teams")
        for team in self.teams:
            if team.calendar not in self.calendars:
                raise ValueError(f"team {team.name!r} uses undefined calendar {team.calendar!r}")
        if list(self.warning_percents) != sorted(set(self.warning_percents)) or not all(
            0 < p < 100 for p in self.warning_percents
        ):
            raise ValueError("warning_percents must be increasing, each between 1 and 99")
        return self

    # --- lookups (cached: the policy is frozen) ---------------------------------------------------

    @cached_property
    def _teams(self) -> dict[str, Team]:
        return {team.name: team for team in self.teams}

    @cached_property
    def _calendars(self) -> dict[str, BusinessCalendar]:
        return {name: calendar.build() for name, calendar in self.calendars.items()}

    def team(self, name: str | None) -> Team:
        """The named team; an unknown team (transferred to by hand) gets the default team's rules.

        Unknown teams are allowed on purpose: a back office passes cases between its own queues and
        sub-teams, and the org chart changes before the policy file does. Refusing such a transfer in the
        tracker would leave the case with the team that already passed it on (nobody works it) and
        dead-letter a record the back office's own system considers done. A team not in ``destinations``
        is therefore handled with the default team's calendar and escalation chain, and made visible
        instead: the tracker logs a warning and counts it in ``omnibus_handoff_transfers_to_unknown_team_total``,
        and ``omnibus handoffs transfer`` refuses it unless ``--allow-unknown-team`` (docs/handoffs.md)."""
        known = self._teams.get(name or "")
        return known or Team(name=name or self.default_team, calendar=self._default_team.calendar)

    @property
    def _default_team(self) -> Team:
        return self._teams[self.default_team]

    @cached_property
    def _queue_teams(self) -> dict[str, Team]:
        return {step.queue(team.name): team for team in self.teams for step in team.escalation_chain}

    def customer_team_name(self, team: str | None, lang: str) -> str | None:
        """What a customer is told ``team`` is called in ``lang`` (``Team.customer_name``); an escalation queue of a
        team (``<team>/<role>``) is told by that team's name: the customer's case is still with it. None when the
        policy gives no name (the notification then names the team by its id)."""
        named = self._teams.get(team or "") or self._queue_teams.get(team or "")
        return named.customer_name(lang) if named else None

    def calendar_name(self, team: str | None) -> str:
        return self.team(team).calendar

    def calendar_of(self, team: str | None) -> BusinessCalendar:
        return self._calendars[self.team(team).calendar]

    def route(self, case_type: str, service_tier: str) -> tuple[str, str | None]:
        """(team, name of the matching rule or None for the default team)."""
        for rule in self.routing:
            if rule.matches(case_type, service_tier):
                return rule.team, rule.name
        return self.default_team, None

    def resolve_within_hours(self, case_type: str, service_tier: str) -> float:
        for policy in self.sla:
            if policy.matches(case_type, service_tier):
                return policy.resolve_within_hours
        return self.default_resolve_within_hours

    def chain(self, team: str | None) -> tuple[EscalationStep, ...]:
        return self.team(team).escalation_chain

    def is_known_team(self, name: str | None) -> bool:
        return name in self._teams

    @cached_property
    def destinations(self) -> frozenset[str]:
        """Every team or queue the policy names: its teams and each tier of their escalation chains
        (``EscalationStep.queue``)."""
        queues = {step.queue(team.name) for team in self.teams for step in team.escalation_chain}
        return frozenset(self._teams) | queues

    def knows_destination(self, name: str | None) -> bool:
        """Whether ``name`` is a team or escalation queue of this policy (``team`` explains why others pass)."""
        return name in self.destinations


class HandoffsSettings(Frozen):
    """Process settings of the handoff tracker (``OMNIBUS_PROCESSOR_HANDOFFS__<FIELD>``)."""

    policy_file: Path | None = Field(None, description="YAML or JSON file with the HandoffPolicy.")
    source_system: str = Field("omnibus-handoffs", description="envelope.source_system of every event it emits.")
    tick_interval_s: float = Field(
        5.0, ge=0, description="How often the worker ticks the deadline scan; 0: ticks come from elsewhere."
    )
    metrics_refresh_s: float = Field(30.0, gt=0, description="How often the open-handoff gauges are recomputed.")
    tick_tolerance_s: float = Field(
        300.0, gt=0, description="A tick more than this ahead of the worker's clock is refused (dead-lettered) as "
        "implausible instead of firing every deadline up to it.",
    )
    tick_max_defer_s: float = Field(
        MAX_DEFER_S, gt=0, description="The longest a deadline scan waits for the handoff events published before its "
        "tick to be read (after a restart or a backlog, bus.tick_gate); then it runs anyway.",
    )
    web_port: int | None = Field(None, ge=0, le=65535, description="faust web port; None disables it.")
    follow_customers: bool = Field(
        True, description="Resolve each handoff's customer and service tier from customer.identifiers.v1 and the "
        "business events (digested into handoff.tier-facts.v1); false: the tier on HandoffCreated only.",
    )
    # 7 days, the retention of customer.contacts.v1: a running replica then holds what a restarted one reads back
    directory_retention_s: float = Field(
        7 * 86400, gt=0, description="Record time (Kafka timestamps of customer.contacts.v1), seconds, the customer "
        "directory keeps identity's placement of a handoff and a contact's move; then dropped (the handoff keeps the "
        "customer saved in its state).",
    )
    closed_retention_s: float = Field(
        CLOSED_KEPT_S, gt=0, description="Event time (occurred_at of the lifecycle records), seconds, a closed handoff "
        "is kept whole (reopenable); then a tombstone replaces it (README, Retention).",
    )
    tombstone_retention_s: float = Field(
        TOMBSTONE_KEPT_S, gt=0, description="Event time, seconds after its close, a pruned handoff's tombstone is "
        "kept; then dropped. At least the retention of handoff.events.v1 (400 days); a HandoffCreated older than "
        "this is refused.",
    )

    @property
    def retention(self) -> Retention:
        """The closed cases' retention of the tracker and of ``omnibus replay`` / ``verify`` (raises ``ValueError``
        for tombstones shorter-lived than handoff.events.v1)."""
        return Retention(self.closed_retention_s, self.tombstone_retention_s)


def load_handoffs_settings(**overrides: object) -> HandoffsSettings:
    return load_component_settings(HandoffsSettings, ENV_PREFIX, **overrides)


def load_policy(path: Path | None) -> HandoffPolicy:
    """The policy in ``path`` (``.yaml``/``.yml`` or ``.json``), or the classic defaults when None."""
    if path is None:
        return HandoffPolicy()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read handoff policy {path}: {exc}") from exc
    try:
        if Path(path).suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        raise ConfigError(f"handoff policy {path} is not valid YAML/JSON: {exc}") from exc
    try:
        return HandoffPolicy.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(f"invalid handoff policy {path}: {describe_validation_error(exc)}") from exc
