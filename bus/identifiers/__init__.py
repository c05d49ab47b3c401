"""One identifier normaliser for every Omnibus component, applied where a value enters.

- ``IdentifierNormaliser`` (``normaliser.py``): PHONE, EMAIL, NATIONAL_ID, ACCOUNT, CARD, DEVICE, USER_ID,
  ANONYMOUS_ID, CUSTOMER_NUMBER, SUPPLY_POINT → an ``Identifier`` or a ``Rejected`` value with its reason; secrets
  become keyed tokens;
- ``IdentifierSettings`` (``settings.py``, env ``OMNIBUS_IDENTIFIERS__*``): token key, default phone region,
  national ID schemes, e-mail provider rules;
- ``traits.py``: the standard trait keys of a person and their normalisers.

Adapters normalise with it and publish what they refused as ``rejected_identifiers`` on
``IdentifiersObserved``; identity normalises again (a no-op on normalised values) before linking.
"""

from bus.identifiers.kinds import IDENTIFIER_TYPES, SECRET_TYPES
from bus.identifiers.model import BLOCKED, INVALID, Identifier, Rejected
from bus.identifiers.normaliser import Found, IdentifierNormaliser, load_identifier_settings
from bus.identifiers.settings import IdentifierSettings

__all__ = [
    "BLOCKED", "IDENTIFIER_TYPES", "INVALID", "SECRET_TYPES", "Found", "Identifier", "IdentifierNormaliser",
    "IdentifierSettings", "Rejected", "load_identifier_settings",
]
