"""Identity checks identifiers with the one normaliser every adapter uses (``bus.identifiers``).

Adapters already normalise and tokenise where values enter; identity normalises again before linking,
which is a no-op on normalised values and tokens, and catches producers that are not Omnibus adapters.
On top of the shared rules, identity refuses what must not be *linked*: placeholders (all zeros,
"unknown"...) and the configured test values (``blocked_values``), with rule ``blocked-value``.

Settings: the phone region is identity's ``default_region`` (else ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION``, as
for the adapters); the token key is ``OMNIBUS_IDENTIFIERS__HMAC_KEY`` when set, else identity's own
``hmac_key`` (the key it always used, so tokens issued before stay valid); national ID schemes and e-mail
rules come from ``OMNIBUS_IDENTIFIERS__*``.
"""

from __future__ import annotations

from collections import OrderedDict

from bus.identifiers import BLOCKED, INVALID, Identifier, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.card import luhn_valid
from bus.identifiers.masking import mask
from bus.identifiers.national_id import canonical_national_id as _canonical
from bus.identifiers.national_id import national_id_check_char
from bus.identifiers.normaliser import MAX_CHARS as MAX_LENGTH
from bus.identifiers.normaliser import load_identifier_settings
from bus.identifiers.settings import check_region
from processors.identity.config import IdentitySettings

__all__ = [
    "BLOCKED", "INVALID", "MAX_LENGTH", "Identifier", "IdentifierNormalizer", "Rejected", "canonical_national_id",
    "luhn_valid", "mask", "national_id_check_char",
]


def canonical_national_id(raw: str) -> str:
    """The canonical form of a national ID under the deployment's first matching scheme; ``ValueError`` if none."""
    return _canonical(raw, load_identifier_settings().national_id_schemes)[1]


LOOKUP_COMPONENT = "identity-lookup"  # omnibus_identifiers_rejected_total's component for screen-pop queries
REMEMBERED = 65_536  # distinct raw identifiers whose normal form is kept (~20 MB at the longest values)


class IdentifierNormalizer:
    """``normalize({"type", "value"})`` → ``Identifier`` or ``Rejected`` (rule and a masked value)."""

    def __init__(self, settings: IdentitySettings, shared: IdentifierSettings | None = None) -> None:
        shared = shared or load_identifier_settings()
        key = shared.hmac_key.get_secret_value() if shared.hmac_key else settings.hmac_key.get_secret_value()
        self._shared = IdentifierNormaliser(
            shared, region=settings.default_region, component="identity", block_placeholders=True,
            blocked=settings.blocked_values, key=key.encode(),
        )
        # an agent's screen-pop query is not channel data: its typos are counted under their own component
        # so an alert on the channels' rejected identifiers does not fire on them
        self._lookups = IdentifierNormaliser(
            shared, region=settings.default_region, component=LOOKUP_COMPONENT, block_placeholders=True,
            blocked=settings.blocked_values, key=key.encode(),
        )
        # Oldest out first; an OrderedDict evicts in constant time (a dict's first key is found by a scan, #9).
        self._accepted: OrderedDict[tuple[str, str], Identifier] = OrderedDict()

    def token(self, kind: str, canonical: str) -> str:
        return self._shared.token(kind, canonical)

    def normalize(
        self, raw: dict[str, str], *, region: str | None = None, lookup: bool = False
    ) -> Identifier | Rejected:
        """Accepted values are remembered (the last ``REMEMBERED`` distinct ones): repeat contacts carry the
        same identifiers again, and parsing a phone or an e-mail costs 0.3–1 ms; a refusal is not
        remembered, so it is counted (``omnibus_identifiers_rejected_total``) every time.

        ``region``: the phone region to read a national number in (ISO 3166-1 alpha-2, e.g. ``FR``) instead of
        the default one; ``ValueError`` if unknown. Such a reading is not remembered. ``lookup``: the value is an
        agent's query (the screen pop), a refusal is counted with component ``identity-lookup``."""
        kind, value = raw.get("type", "UNKNOWN"), raw.get("value")
        normaliser = self._lookups if lookup else self._shared
        if region:
            return normaliser.normalise(str(kind), value, region=check_region(region))
        key = (kind, value) if isinstance(kind, str) and isinstance(value, str) else None
        found = self._accepted.get(key) if key is not None else None
        if found is not None:
            return found
        result = normaliser.normalise(str(kind), value)
        if key is not None and isinstance(result, Identifier):
            if len(self._accepted) >= REMEMBERED:
                self._accepted.popitem(last=False)  # the oldest first
            self._accepted[key] = result
        return result
