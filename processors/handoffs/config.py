"""What the handoff tracker is told: routing, team calendars, SLA policies, escalation chains, acknowledgement.

Two layers: ``HandoffsSettings`` (process settings from ``OMNIBUS_PROCESSOR_HANDOFFS__*``) and
``HandoffPolicy`` (the business rules, from a YAML or JSON file named by ``policy_file``). Both are
frozen and reject unknown keys. Without a file the policy is the classic rule: one ``back-office``
team working round the clock, 20 hours to resolve, each escalation tier another 20 hours.
"""

from __future__ import annotations

import json
import re
from datetime import date
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bus.config import TimeZoneName, load_component_settings
from bus.errors import ConfigError
from processors.handoffs.calendar import BusinessCalendar, Window, check_windows

ENV_PREFIX = "OMNIBUS_PROCESSOR_HANDOFFS__"
CLASSIC_RESOLVE_HOURS = 20.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _weekday(value: Any) -> int:
    if isinstance(value, str) and value[:3].lower() in WEEKDAYS:
        return WEEKDAYS.index(value[:3].lower())
    return value


def _minute_of_day(value: Any) -> Any:
    if isinstance(value, str):
        if not _CLOCK_TIME.match(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM (00:00 to 24:00)")
        hours, minutes = value.split(":")
        return int(hours) * 60 + int(minutes)
    return value


Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=0, le=6)]
MinuteOfDay = Annotated[int, BeforeValidator(_minute_of_day), Field(ge=0, le=24 * 60)]


def _window(value: Any) -> Any:
    """'09:00-13:00' (or ['09:00', '13:00']) as (opens, closes) minutes; a closing time not after the opening
    (e.g. '22:00-06:00') is on the next day."""
    if isinstance(value, str):
        if value.count("-") != 1:
            raise ValueError(f"{value!r} is not a working window 'HH:MM-HH:MM'")
        value = value.split("-")
    if isinstance(value, list | tuple) and len(value) == 2:
        opens, closes = (_minute_of_day(v.strip() if isinstance(v, str) else v) for v in value)
        if isinstance(opens, int) and isinstance(closes, int) and closes <= opens:
            closes += 24 * 60  # crosses midnight
        return opens, closes
    return value


def _windows_after_breaks(windows: tuple[Window, ...], breaks: tuple[Window, ...]) -> tuple[Window, ...]:
    result = list(windows)
    for b_open, b_close in breaks:
        result = [piece for opens, closes in result
                  for piece in ((opens, min(closes, b_open)), (max(opens, b_close), closes)) if piece[0] < piece[1]]
    return tuple(result)


WorkingWindow = Annotated[tuple[int, int], BeforeValidator(_window)]


class TeamCalendar(Frozen):
    """Working hours of a team in its time zone, holidays off.

    Simplest form: ``opens``/``closes`` on every ``working_days``. Several windows a day: ``windows``
    (e.g. ``["09:00-13:00", "14:00-18:00"]``) or ``breaks`` cut out of ``opens``-``closes`` (or out of
    ``windows``). ``weekdays`` replaces the windows of named weekdays (``{sat: ["09:00-12:00"]}``; ``[]``
    closes it) and ``exceptions`` those of single dates (``{2026-12-24: ["09:00-12:00"], 2026-12-31: []}``;
    an exception also opens a public holiday). A window whose closing time is not after its opening
    (``"22:00-06:00"``) ends the next morning. Breaks apply to every day, exceptions included.
    """

    timezone: TimeZoneName = "UTC"
    working_days: tuple[Weekday, ...] = (0, 1, 2, 3, 4, 5, 6)
    opens: MinuteOfDay = Field(0, description="Local time the working day starts, 'HH:MM'.")
    closes: MinuteOfDay = Field(24 * 60, description="Local time it ends, 'HH:MM' ('24:00' = midnight).")
    windows: tuple[WorkingWindow, ...] | None = Field(
        None, description="Working windows of each working day, 'HH:MM-HH:MM'; replaces opens/closes."
    )
    breaks: tuple[WorkingWindow, ...] = Field((), description="Breaks cut out of every day's windows.")
    weekdays: dict[Weekday, tuple[WorkingWindow, ...]] = Field(
        default_factory=dict, description="Windows of particular weekdays (overrides working_days and windows)."
    )
    exceptions: dict[date, tuple[WorkingWindow, ...]] = Field(
        default_factory=dict, description="Windows of particular dates (ISO dates; [] = closed)."
    )
    holidays: tuple[date, ...] = Field((), description="Explicit days off (ISO dates).")
    holiday_country: str | None = Field(None, description="ISO country code of public holidays (`holidays` package).")
    holiday_subdivision: str | None = None

    @model_validator(mode="after")
    def _opens_before_closes(self) -> TeamCalendar:
        if self.windows is None and self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        if not self.working_days and not any(self.weekdays.values()):
            raise ValueError("a calendar needs at least one working day")
        try:
            for windows in (self.windows or (), self.breaks, *self.weekdays.values(), *self.exceptions.values()):
                check_windows(windows)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if not any(self.week().values()):
            raise ValueError("the calendar has no working time on any weekday (breaks cover every window)")
        return self

    def _cut(self, windows: tuple[Window, ...]) -> tuple[Window, ...]:
        return _windows_after_breaks(windows, self.breaks)

    def week(self) -> dict[int, tuple[Window, ...]]:
        """Weekday (0 = Monday) -> its working windows after breaks."""
        every_day = self.windows if self.windows is not None else ((self.opens, self.closes),)
        week = {day: self._cut(tuple(every_day)) for day in self.working_days}
        week.update({day: self._cut(windows) for day, windows in self.weekdays.items()})
        return week

    def build(self) -> BusinessCalendar:
        rules = None
        if self.holiday_country:
            import holidays  # imported only when public holidays are asked for

            rules = holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision)
        return BusinessCalendar(
            self.timezone, week=self.week(), exceptions={d: self._cut(w) for d, w in self.exceptions.items()},
            holidays=self.holidays, holiday_rules=rules,
        )


class EscalationStep(Frozen):
    """One tier above the owning team: who is told, and how long they get (in working hours)."""

    role: str = Field(description="e.g. team-lead, manager, head.")
    team: str | None = Field(None, description="Team or queue that receives the escalation; default '<team>/<role>'.")
    owner_id: str | None = Field(None, description="Employee id of the person escalated to, if one person.")
    resolve_within_hours: float = Field(CLASSIC_RESOLVE_HOURS, gt=0)


DEFAULT_CHAIN = (EscalationStep(role="team-lead"), EscalationStep(role="manager"), EscalationStep(role="head"))


class Team(Frozen):
    name: str
    calendar: str = "default"
    receiving_system: str | None = Field(None, description="System expected to acknowledge; None: any system.")
    escalation_chain: tuple[EscalationStep, ...] = DEFAULT_CHAIN


class RoutingRule(Frozen):
    """Case types (shell patterns) and optional service tiers that go to a team; the first match wins."""

    name: str
    team: str
    case_types: tuple[str, ...] = ("*",)
    service_tiers: tuple[str, ...] = ()

    def matches(self, case_type: str, service_tier: str) -> bool:
        tier_ok = not self.service_tiers or service_tier in self.service_tiers
        return tier_ok and any(fnmatchcase(case_type, pattern) for pattern in self.case_types)


class SlaPolicy(Frozen):
    """Working hours to resolve, by case type (patterns) x service tier; the first match wins."""

    case_types: tuple[str, ...] = ("*",)
    service_tiers: tuple[str, ...] = Field((), description="Empty: every tier.")
    resolve_within_hours: float = Field(gt=0)

    def matches(self, case_type: str, service_tier: str) -> bool:
        tier_ok = not self.service_tiers or service_tier in self.service_tiers
        return tier_ok and any(fnmatchcase(case_type, pattern) for pattern in self.case_types)


class AcknowledgementPolicy(Frozen):
    timeout_minutes: float = Field(30.0, gt=0, description="Wall-clock time a receiving system has to acknowledge.")
    max_resends: int = Field(3, ge=0, description="Re-sends of the work order before the alarms stop.")


class TierPolicy(Frozen):
    """Service tiers: their order, the tiers products confer, whose word counts, and changes mid-case.

    A customer's tier is the highest, by ``order``, of the tiers of their open accounts
    (``AccountOpened.service_tier``) and active subscriptions (``products``: product code -> tier); a tier
    not in ``order`` ranks below every listed one. A tier on ``HandoffCreated`` is the channel's guess,
    replaced by the customer's tier once known, unless the origin channel is in ``trusted_channels``.
    ``mid_case`` is the rule for a tier that changes after it was settled: ``upgrade`` re-times an open
    case to a higher tier forward only (the deadline never moves later; a downgrade changes nothing),
    ``keep`` never re-times.
    """

    order: tuple[str, ...] = Field(("basic", "standard", "premium", "gold", "platinum"),
                                   description="Service tiers, lowest first.")
    products: dict[str, str] = Field(default_factory=dict, description="Product code -> tier it confers.")
    trusted_channels: tuple[str, ...] = Field((), description="Origin channels whose HandoffCreated tier is final.")
    mid_case: Literal["upgrade", "keep"] = "upgrade"

    def rank(self, tier: str | None) -> int:
        return self.order.index(tier) if tier in self.order else -1


class NotificationPolicy(Frozen):
    """Who can carry a customer notification to which identifier.

    ``addresses``: per channel, the identifier types it can reach a customer by, preferred first. The
    notification goes to the origin channel at the first such identifier the handoff came with (the one
    seen there), else to the first channel of ``fallback`` that can reach one of the customer's known
    identifiers, else to the origin channel without an address.
    """

    addresses: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {
        "WEB": ("USER_ID", "EMAIL"), "CALL_CENTER": ("PHONE",), "BRANCH": ("PHONE", "EMAIL"),
    })
    fallback: tuple[str, ...] = ("WEB", "CALL_CENTER")

    @property
    def reachable_types(self) -> frozenset[str]:
        return frozenset(t for types in self.addresses.values() for t in types)


class HandoffPolicy(Frozen):
    calendars: dict[str, TeamCalendar] = Field(default_factory=lambda: {"default": TeamCalendar()})
    teams: tuple[Team, ...] = (Team(name="back-office"),)
    default_team: str = "back-office"
    routing: tuple[RoutingRule, ...] = ()
    sla: tuple[SlaPolicy, ...] = ()
    default_resolve_within_hours: float = Field(CLASSIC_RESOLVE_HOURS, gt=0)
    default_service_tier: str = "standard"
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
        """The named team; an unknown team (transferred to by hand) gets the default team's rules."""
        known = self._teams.get(name or "")
        return known or Team(name=name or self.default_team, calendar=self._default_team.calendar)

    @property
    def _default_team(self) -> Team:
        return self._teams[self.default_team]

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


class HandoffsSettings(Frozen):
    """Process settings of the handoff tracker (``OMNIBUS_PROCESSOR_HANDOFFS__<FIELD>``)."""

    policy_file: Path | None = Field(None, description="YAML or JSON file with the HandoffPolicy.")
    source_system: str = Field("omnibus-handoffs", description="envelope.source_system of every event it emits.")
    tick_interval_s: float = Field(
        5.0, ge=0, description="How often the worker ticks the deadline scan; 0: ticks come from elsewhere."
    )
    metrics_refresh_s: float = Field(30.0, gt=0, description="How often the open-handoff gauges are recomputed.")
    web_port: int | None = Field(None, ge=0, le=65535, description="faust web port; None disables it.")
    follow_customers: bool = Field(
        True, description="Resolve each handoff's customer and service tier from customer.identifiers.v1 and the "
        "business events (digested into handoff.tier-facts.v1); false: the tier on HandoffCreated only.",
    )


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
        raise ConfigError(f"invalid handoff policy {path}:\n{exc}") from exc
