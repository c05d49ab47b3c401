"""Settings of the offer processor, from ``OMNIBUS_PROCESSOR_OFFERS__*`` (frozen, unknown keys refused).

``POLICY`` is the contact policy as JSON, e.g.
``{"caps": [{"max": 3, "per": "7d"}, {"max": 1, "per": "1d", "channel": "WEB"}],
"quiet_hours": {"start": "21:00", "end": "08:00"}, "not_now_days": 14}``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bus.config import TimeZoneName, load_component_settings
from bus.logging import get_logger
from processors.offers.caps import ContactPolicy
from processors.offers.definition import Channel
from processors.offers.ranking import country_zone

ENV_PREFIX = "OMNIBUS_PROCESSOR_OFFERS__"
log = get_logger(__name__)


class SignalSettings(BaseModel):
    """When the retention signals fire (the brief's 7-day repeat-contact rule is the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    window_days: float = Field(7.0, gt=0, description="Repeat-contact window and dedupe window per kind, days.")
    repeat_contacts: int = Field(2, ge=2, description="Contacts about one matter within the window that signal.")
    cancellation_markers: tuple[str, ...] = Field(
        ("cancel", "cancellation", "terminate", "close-account"),
        description="A contact or order whose disposition / name / status contains one is a cancellation request.")
    port_out_markers: tuple[str, ...] = Field(
        ("port-out", "port_out", "portout", "number-port"),
        description="An order or contact containing one is a port-out request (a competitor takes the number).")
    overdue_days: int = Field(1, ge=0, description="PaymentOverdue from this many days late signals arrears.")


class OffersSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    policy: ContactPolicy = Field(default_factory=ContactPolicy)
    signals: SignalSettings = Field(default_factory=SignalSettings)
    # Unset: the deployment's region's zone (DEFAULT_REGION=FR ran quiet hours in UTC), never a fixed
    # market's (the old Asia/Shanghai default hid offers to French customers from 13:00 UTC)
    default_timezone: TimeZoneName | None = Field(
        None,
        description="IANA zone of customers whose country is unknown or has several zones; unset: the zone of "
                    "OMNIBUS_IDENTIFIERS__DEFAULT_REGION when that country has one (FR: Europe/Paris), else UTC.")
    push_channels: tuple[Channel, ...] = Field(
        (Channel.CALL_CENTER, Channel.BRANCH, Channel.SMS, Channel.EMAIL),
        description="Channels told by instruction topics (the others pull); an offer is pushed on those of its "
                    "`channels` listed here.")
    pending_per_identifier: int = Field(50, gt=0, description="Events kept while their identifier is not resolved yet.")
    # 30 days: a channel's answer reaches Omnibus within minutes of its contact, identity places a contact within
    # seconds; what still waits after a month never will (an identifier identity refused, a contact never sent)
    retention_s: float = Field(
        30 * 86400, gt=0,
        description="Event time (envelope.received_at), seconds, an offer event waits in pending for identity and a "
                    "contact's placement is kept for its offer events; then dropped (waiting events dead-lettered).")
    batch_size: int = Field(200, gt=0, description="Records handled per batch (one acknowledgement wait).")
    # 0.05 s, not 0.01: ~6 records per batch at 100 answers/s instead of ~2, so fewer produce and fetch requests
    # per answer (the Kafka client's requests are most of the CPU an answer costs; tests/bench/results/offers.md)
    batch_within_s: float = Field(0.05, gt=0, description="Longest wait to fill a batch, seconds.")
    web_port: int | None = Field(6067, ge=0, le=65535, description="Offer query HTTP port; unset disables it.")
    source_system: str = "omnibus-offers"

    def in_region(self, region: str | None) -> OffersSettings:
        """These settings with ``default_timezone`` resolved for a deployment whose region (ISO 3166 alpha-2,
        ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION``) is ``region`` (``default_zone``). Called once at the worker's start
        (``agent.build_worker``): a region that gives no zone (a country of several zones, US, DE, ES, PT; or none
        known) while ``DEFAULT_TIMEZONE`` is unset logs one warning naming the setting, since its customers' quiet hours
        then run in UTC."""
        if not self.default_timezone and region and not country_zone(region):
            log.warning("offers: the deployment's region has several time zones (or none known), so quiet hours of "
                        "customers without a one-zone country run in UTC; set their zone",
                        region=region.upper(), setting=f"{ENV_PREFIX}DEFAULT_TIMEZONE")
        return self.model_copy(update={"default_timezone": default_zone(self.default_timezone, region)})

    @property
    def zone(self) -> str:
        """The zone of customers whose country is unknown or has several zones (``default_zone`` without a region:
        settings not resolved ``in_region`` are in UTC unless set)."""
        return default_zone(self.default_timezone, None)


def default_zone(configured: str | None, region: str | None) -> str:
    """The offers' zone of customers whose country is unknown or has several zones: ``configured``
    (``DEFAULT_TIMEZONE``) when set, else the zone of the deployment's ``region`` when that country has only one
    (``FR`` → ``Europe/Paris``, from the IANA tz database as pytz ships it: ``ranking.country_zone``), else ``UTC``
    (``US``: several zones; set ``DEFAULT_TIMEZONE``)."""
    return configured or country_zone(region or "") or "UTC"


def load_offers_settings(**overrides: object) -> OffersSettings:
    return load_component_settings(OffersSettings, ENV_PREFIX, **overrides)
