"""Settings of the branch-counter adapter (env ``OMNIBUS_ADAPTER_BRANCH__<FIELD>``)."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, SecretStr

from adapters.base.config import AdapterSettings
from bus.identifiers.settings import PhoneRegion

ENV_PREFIX = "OMNIBUS_ADAPTER_BRANCH__"

# A refused body is dead-lettered whole, and a dead letter must fit in one Kafka message (1 MB).
MAX_BODY_BYTES = 512 * 1024
MAX_EVENTS_PER_BATCH = 1000


class BranchSettings(AdapterSettings):
    terminal_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Terminal id -> its bearer token; a terminal may only upload its own events.",
    )
    terminal_branches: dict[str, str] = Field(
        default_factory=dict,
        description="Terminal id -> the branch it stands in; an upload of that terminal naming another branch_id "
        "is refused (401), so a misconfigured terminal cannot report into another branch's KPIs. A terminal not "
        "listed may name any branch (the adapter says how many at start).",
    )
    source_system: str = Field("branch-terminal", description="envelope.source_system of every event.")
    scoped_ids_from: AwareDatetime | None = Field(
        None, description="Transactions that occurred before this instant (ISO 8601 with its offset) keep the bare "
        "transaction id as their transaction_id and interaction_id, as they were published before ids were scoped by "
        "terminal, so their re-sends stay duplicates; set it to the upgrade's time on a deployment that published "
        "counter transactions before, once every counter agent's journal is drained (a transaction before it uploaded "
        "for the first time after it gets the bare id too: README, upgrade notes); unset: every transaction's ids are "
        "counter:<terminal>:<transaction id>.",
    )
    phone_region: PhoneRegion = Field(
        None, description="Region for phone numbers written without a country code (e.g. FR); unset: "
        "OMNIBUS_IDENTIFIERS__DEFAULT_REGION, else +CC or 00CC is required.",
    )

