"""How much of a customer's history each screen-pop section keeps (#13: every state record stays within the
broker's record limit by construction, whatever the customer's history).

A profile travels whole in the identity processor's changelog and in merge messages, so every section is
bounded twice: a count of entries (below, one setting each) and a length of every text it stores
(``short_text``, ``short_key``). What goes first when a count is reached is documented per section: facts
that are closed (a cancelled product, a finished handoff's tombstone, a withdrawn offer) before live ones,
the oldest before the newest. A section that drops an entry counts it in its state (``dropped``) so the
screen pop can say that older entries are not shown.

With the defaults the largest possible profile (every count reached, every text at its longest) is about
0.5 MiB as plain msgpack, half of Kafka's 1 MiB record limit (``tests/processors/profile/test_limits.py``).

Settings: ``OMNIBUS_PROCESSOR_PROFILE__<FIELD>`` (e.g. ``OMNIBUS_PROCESSOR_PROFILE__PRODUCTS_PER_KIND=100``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bus.config import load_component_settings

ENV_PREFIX = "OMNIBUS_PROCESSOR_PROFILE__"
MAX_TEXT_CHARS = 200  # ids, names, outcomes, sites: a screen pop shows a line, not a document
MAX_CONTENT_CHARS = 1000  # an offer's script, the one longer text a screen pop shows


class ProfileLimits(BaseModel):
    """Entries kept per customer and section (counts, not bytes; each entry's texts are capped too)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recent_contacts_per_channel: int = Field(10, ge=1, le=100, description="Latest contacts kept per channel.")
    products_per_kind: int = Field(
        50, ge=1, le=200,
        description="Accounts, subscriptions, orders and bills kept, each; closed ones go first, then the oldest.",
    )
    open_handoffs: int = Field(
        50, ge=1, le=200, description="Open handoffs kept; past it the oldest created goes first.")
    closed_handoffs: int = Field(
        50, ge=0, le=500, description="Tombstones of finished handoffs kept (a replayed older event stays ignored).")
    eligible_offers: int = Field(
        20, ge=1, le=100, description="Offers shown at once; past it the lowest priority, then the oldest, goes.")
    withdrawn_offers: int = Field(
        100, ge=0, le=500, description="Instants of withdrawn offers kept (a late older SHOW stays ignored).")
    name_observations: int = Field(
        5, ge=1, le=50,
        description="Latest observations of the customer's name kept, by event time (what the name rule chooses of: "
                    "sections/name_choice.py; they remain when an operator's split takes some).")


def load_profile_limits(**overrides: object) -> ProfileLimits:
    """Limits from ``OMNIBUS_PROCESSOR_PROFILE__*`` variables; raises ``bus.errors.ConfigError`` on a bad value."""
    return load_component_settings(ProfileLimits, ENV_PREFIX, **overrides)


def short_text(value: Any, limit: int = MAX_TEXT_CHARS) -> Any:
    """A string cut to ``limit`` characters; any other value unchanged."""
    return value[:limit] if isinstance(value, str) else value


def short_texts(fields: dict[str, Any], limit: int = MAX_TEXT_CHARS) -> dict[str, Any]:
    """``fields`` with each string value cut as ``short_text`` cuts it, in one comprehension: an entry's fields
    without a call per field (#9: the recent contacts section cuts ~8 per contact event)."""
    return {name: value[:limit] if isinstance(value, str) else value for name, value in fields.items()}


def short_key(key: str) -> str:
    """An id of at most ``MAX_TEXT_CHARS``; a longer one keeps a digest of the whole, so two ids stay two."""
    if len(key) <= MAX_TEXT_CHARS:
        return key
    return key[:MAX_TEXT_CHARS - 17] + "~" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def keep_newest(entries: dict[str, Any], limit: int, rank: Any) -> tuple[dict[str, Any], int]:
    """The ``limit`` entries of ``entries`` with the highest ``rank(key, entry)``, and how many were dropped."""
    if len(entries) <= limit:
        return entries, 0
    kept = sorted(entries.items(), key=lambda item: rank(*item), reverse=True)[:limit]
    return dict(kept), len(entries) - limit
