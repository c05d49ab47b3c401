"""A holder's role on a family or joint account, read from a layout's ``holder_role`` column.

A customer master or billing export lists such an account as one line per holder. The words sources write for who
pays are many (``Payer``, ``Bill payer``, ``Account holder``, ``Primary``; ``Member``, ``User``, ``Child``,
``Additional``...): each maps to one of the contract's standard roles (``omnibus.common.HolderRole``: ``PAYER`` or
``MEMBER``, ``schemas.enums``), compared without case, spaces, ``_`` or ``-``. Identity then gives the account to a
payer's customer before a member's (``processors/identity/graph/limits.key_rank``), so the account's own facts (a
bill, an overdue notice) reach the payer's screen pop, not a child's.
"""

from __future__ import annotations

import re

from adapters.base.errors import RejectedInput
from schemas.enums import HOLDER_ROLE, MEMBER, PAYER

FIELD = HOLDER_ROLE  # the layout's field, named as the events' (docs/legacy-batch.md, "A family or joint account")
# Source words (squeezed: lower case, letters only) -> standard role.
WORDS: dict[str, str] = {
    **dict.fromkeys(("payer", "billpayer", "holder", "accountholder", "owner", "primary", "main", "titular"), PAYER),
    **dict.fromkeys(("member", "user", "lineuser", "child", "dependant", "dependent", "secondary", "additional",
                     "authoriseduser", "authorizeduser"), MEMBER),
}


def holder_role(raw: str | None) -> str | None:
    """The standard role (``PAYER``, ``MEMBER``) a source's word names; None for no value (the source does not say).

    Raises ``RejectedInput`` (``malformed_field``) for a word none of ``WORDS`` is: ranked as no role, the line would
    let a child keep the account by chance again, so the sender hears which words are known (the value is a role,
    never an identifier, and is not repeated)."""
    if raw is None or not raw.strip():
        return None
    role = WORDS.get(re.sub(r"[^a-z]", "", raw.lower()))
    if role is None:
        raise RejectedInput(f"field {FIELD} names no known role; known words: {', '.join(sorted(WORDS))} "
                            f"({PAYER} or {MEMBER})", code="malformed_field")
    return role
