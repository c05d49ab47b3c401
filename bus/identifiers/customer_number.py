"""CUSTOMER_NUMBER: a system of record's number for its customer, one key however a channel writes it.

Always: whitespace removed, upper case, NFKC (``c 5005`` typed at a screen pop is the ``C5005`` of the export).
With a system-of-record format (``OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT``, a ``NumberFormat``:
``bus.identifiers.number_format``) the house styles of the other channels become the system of record's own
spelling as well: ``770002``, ``c770002``, ``C-0770002`` are all billing's ``C-770002`` under ``{"prefix": "C-"}``.
"""

from __future__ import annotations

from bus.identifiers.number_format import NUMBER_GROUP, NumberFormat, described, in_format, spelling

# The name this setting's format had first; the same model as every number format.
CustomerNumberFormat = NumberFormat
SETTING = "OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT"
# The code of the rejection when a format does not give its own output back (``normalise_customer_number``).
UNSTABLE_FORMAT = "customer-number-format"

__all__ = ["NUMBER_GROUP", "UNSTABLE_FORMAT", "CustomerNumberFormat", "customer_number_spelling",
           "normalise_customer_number", "spelling"]


# A customer number as a channel types it, shown in the system of record's spelling by ``customer_number_spelling``.
EXAMPLE_NUMBER = "770002"


def customer_number_spelling(system_format: NumberFormat | None) -> str:
    """What a sender's documentation says of a CUSTOMER_NUMBER value (the OpenAPI documents), from the deployment's
    ``system_format`` (``number_format.described``)."""
    return f"CUSTOMER_NUMBER: a number {described(system_format, SETTING, EXAMPLE_NUMBER)}."


def normalise_customer_number(value: str, system_format: NumberFormat | None) -> str:
    """The one key of a customer number: ``spelling(value)``, in ``system_format`` when it matches
    (``number_format.in_format``): ``normalise_customer_number("c 770002", NumberFormat(prefix="C-"))`` →
    ``"C-770002"``. Raises ``NotAnIdentifier`` (code ``customer-number-format``) for a format that reads its own
    output as another number."""
    return in_format(value, system_format, UNSTABLE_FORMAT, SETTING)
