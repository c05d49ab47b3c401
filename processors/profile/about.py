"""What an event is about, for an operator's split: the one rule identity's screen pop and the offers follow (M1).

A split divides what a customer holds by the identifiers each fact came through (``book.follows``). A billing line
of a customer master carries the account and the holder's IBAN, e-mail and phone together; its account record (and
the tier and segment it sets) is about the account number, so it goes wherever the ACCOUNT identifier goes, and
is never kept by the source that keeps the e-mail nor counted by both customers.

Account numbers are compared as identity keys them: ``normalise_account`` with the deployment's
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT`` (``system_format``), so a business event a producer other than an
Omnibus adapter sent with billing's ``900001`` is about the ``ACCOUNT:CA-900001`` identity carried under
``{"prefix": "CA-"}``.
"""

from __future__ import annotations

from collections.abc import Sequence

# the module, not its NS: the products section spells its account numbers with ``account_number`` (import cycle)
import processors.profile.sections.products as products
from bus.identifiers.account import normalise_account
from bus.identifiers.kinds import ACCOUNT
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.number_format import NumberFormat
from bus.serde import Event


def account_number(value: str, system_format: NumberFormat | None) -> str:
    """An account number in its normal form (``normalise_account`` in ``system_format``, the deployment's
    ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``: ``"900001"`` is ``"CA-900001"`` under ``{"prefix": "CA-"}``), or
    as given when it is none. Pure."""
    try:
        return normalise_account(value, system_format)
    except NotAnIdentifier:
        return value


def about(event: Event, carried: Sequence[str], system_format: NumberFormat | None) -> list[str]:
    """The identifier keys (``TYPE:value``) a split divides what ``event`` fed by, out of those it came through,
    ``carried``: a business event (``omnibus.business.*``) with an ``account_number`` is about that account, so
    only its carried ACCOUNT key counts (compared in its normal form, ``account_number`` in ``system_format``, and
    returned as spelled in ``carried``); any other event, or a business event that did not come through its account
    (the account is another customer's: a joint account's second holder), by every key in ``carried``. Pure; raises
    nothing."""
    number = event.value.get("account_number") if event.schema.startswith(products.NS) else None
    if number:
        wanted = account_number(str(number), system_format)
        own = [key for key in carried if key.partition(":")[0] == ACCOUNT
               and account_number(key.partition(":")[2], system_format) == wanted]
        if own:
            return own[:1]
    return list(carried)
