"""An offer as marketing defines it once for every channel, and its Avro form on the offers topic.

``Offer`` is the typed, validated definition (from a YAML file, see ``offer_file``, or from an
``omnibus.marketing.OfferDefined`` record). Instants are timezone-aware datetimes; cap windows are
seconds. A revision is the same ``offer_id`` with a higher ``version``: it replaces the old one on
every channel.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from processors.offers.eligibility import Rule
from processors.offers.quiet_hours import QuietHours

OFFER_DEFINED = "omnibus.marketing.OfferDefined"
OFFER_WITHDRAWN = "omnibus.marketing.OfferWithdrawn"
DEFAULT_CONTENT = "default"
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Channel(StrEnum):
    """The customer-facing symbols of ``omnibus.common.Channel`` an offer can be presented on."""

    WEB = "WEB"
    CALL_CENTER = "CALL_CENTER"
    BRANCH = "BRANCH"
    SMS = "SMS"
    EMAIL = "EMAIL"


# The channels an offer is presented on while the customer is there: a portal session, the desk, an inbound call (the
# agent's screen pop and query). Quiet hours hold back outbound pushes (an SMS, an e-mail, an outbound call: the
# ``not_before`` of a push instruction), never an offer to a customer who came (a customer on the portal
# or at the desk at 08:13 in Paris was shown nothing).
CUSTOMER_PRESENT = frozenset({Channel.WEB, Channel.CALL_CENTER, Channel.BRANCH})
# Marketing's outbound pushes: an SMS gateway, an e-mail campaign tool. Never customer-present; each
# reads its own instruction topic, whose instructions carry the customer's addresses of one identifier type only
# (the one it sends to: ``outputs.address_keys``), and reports what it sent back on ``marketing.responses.v1``.
OUTBOUND: dict[Channel, str] = {Channel.SMS: "PHONE", Channel.EMAIL: "EMAIL"}


def _seconds(value: Any) -> Any:
    """'7d', '24h', '90m', '30s', '2w' -> seconds (ints pass through)."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a duration like 30s, 90m, 24h, 7d or 2w")
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone offset (e.g. 2026-12-01T00:00:00+01:00 or ...Z)")
    return value.astimezone(UTC)


Seconds = Annotated[int, BeforeValidator(_seconds), Field(gt=0)]
AwareTime = Annotated[datetime, AfterValidator(_aware)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cap(Frozen):
    """At most ``max`` presentations within ``per`` seconds (a rolling window ending now, not a calendar day); on one
    channel, or across all when ``channel`` is None. Outbound pushes instructed and not sent yet count too
    (``reservations.py``)."""

    max: int = Field(ge=1)
    per: Seconds
    channel: Channel | None = None


class Offer(Frozen):
    offer_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    content: dict[str, str] = Field(description="Text per channel name, and/or 'default' for every other channel; "
                                    "a plain text is the default for every channel.")
    channels: tuple[Channel, ...] = Field(min_length=1)
    valid_from: AwareTime
    valid_until: AwareTime | None = None
    priority: int = Field(0, ge=0, le=1000, description="Higher is shown first.")
    eligibility: Rule = Field(default_factory=lambda: Rule("true"))
    caps: tuple[Cap, ...] = ()
    quiet_hours: QuietHours | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _one_text_for_every_channel(cls, value: Any) -> Any:
        return {DEFAULT_CONTENT: value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Offer:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels: must not repeat")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until: must be after valid_from")
        unknown = set(self.content) - {DEFAULT_CONTENT} - {c.value for c in self.channels}
        if unknown:
            raise ValueError(f"content: content for channels the offer is not on: {sorted(unknown)}")
        missing = [c.value for c in self.channels if c.value not in self.content]
        if missing and DEFAULT_CONTENT not in self.content:
            raise ValueError(f"content: no content for {missing}: give it per channel or under 'default'")
        return self

    def content_for(self, channel: str) -> str:
        return self.content.get(channel) or self.content[DEFAULT_CONTENT]

    def valid_at(self, now: datetime) -> bool:
        return self.valid_from <= now and (self.valid_until is None or now < self.valid_until)

    # --- Avro (omnibus.marketing.OfferDefined) ------------------------------------------------------

    def to_record(self, envelope: dict[str, Any]) -> dict[str, Any]:
        shared = [cap for cap in self.caps if cap.channel is None]
        return {
            "envelope": envelope, "offer_id": self.offer_id, "version": self.version, "title": self.title,
            "content": self.content.get(DEFAULT_CONTENT) or self.content_for(self.channels[0].value),
            "channels": [c.value for c in self.channels], "eligibility_rule": self.eligibility.source,
            "valid_from": self.valid_from, "valid_until": self.valid_until,
            "contact_cap": _cap_record(shared[0]) if shared else None,
            "priority": self.priority, "channel_content": dict(self.content),
            "caps": [_cap_record(cap) for cap in self.caps],
            "quiet_hours": self.quiet_hours.to_record() if self.quiet_hours else None,
        }

    @classmethod
    def from_record(cls, value: dict[str, Any]) -> Offer:
        caps = value.get("caps") or ([value["contact_cap"]] if value.get("contact_cap") else [])
        content = dict(value.get("channel_content") or {}) or {DEFAULT_CONTENT: value["content"]}
        channels = [c for c in value["channels"] if c in Channel.__members__]
        return cls(
            offer_id=value["offer_id"], version=value["version"], title=value["title"], content=content,
            channels=tuple(channels), valid_from=value["valid_from"], valid_until=value.get("valid_until"),
            priority=value.get("priority") or 0, eligibility=Rule(value.get("eligibility_rule") or "true"),
            caps=tuple(Cap(max=c["max_presentations"], per=max(1, c["window_ms"] // 1000), channel=c.get("channel"))
                       for c in caps),
            quiet_hours=QuietHours.from_record(value["quiet_hours"]) if value.get("quiet_hours") else None,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-able form kept in the processor's catalogue table."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Offer:
        return cls.model_validate(raw)


def _cap_record(cap: Cap) -> dict[str, Any]:
    return {"max_presentations": cap.max, "window_ms": cap.per * 1000,
            "channel": cap.channel.value if cap.channel else None}


def window(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)
