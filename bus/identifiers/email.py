"""EMAIL: one mailbox, one identifier, whatever the spelling.

Rule (RFC 5321/5322 syntax and IDNA 2008 domains, both checked by ``email-validator``; no DNS lookup):

- the whole address is Unicode-normalised (NFC) and trimmed;
- the domain is case-folded and written in Unicode (``bücher.example``, never ``xn--bcher-kva.example``),
  so the IDNA ASCII and Unicode spellings of one domain are one identifier;
- the local part is case-folded. RFC 5321 lets a server treat ``Ann`` and ``ann`` as two mailboxes, but
  no mainstream provider does and customers type either, so case never tells two people apart here;
- no provider-specific rewriting unless configured: dots are removed only for the domains listed in
  ``email_dotless_domains``, a ``+tag`` only for those in ``email_subaddress_domains``.

A value that is not an address raises ``NotAnIdentifier`` (code ``email-syntax``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from email_validator import EmailNotValidError, validate_email

from bus.identifiers.model import NotAnIdentifier


def normalise_email(value: str, *, dotless: Collection[str] = (), subaddress: Collection[str] = ()) -> str:
    text = unicodedata.normalize("NFC", value.strip())
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise NotAnIdentifier("email-syntax", f"not an e-mail address: {_without_value(str(exc), text)}") from None
    local = unicodedata.normalize("NFC", checked.local_part.casefold())
    domain = unicodedata.normalize("NFC", checked.domain.casefold())
    if domain in subaddress:
        local = local.split("+", 1)[0]
    if domain in dotless:
        local = local.replace(".", "")
    if not local:
        raise NotAnIdentifier("email-syntax", "not an e-mail address: the local part is empty")
    return f"{local}@{domain}"


def _without_value(message: str, value: str) -> str:
    """email-validator sometimes quotes parts of the address; the reason must never carry it."""
    local, _, domain = value.partition("@")
    for part in sorted({value, local, domain}, key=len, reverse=True):
        if len(part) >= 4:  # shorter fragments identify no one and would garble the message
            message = message.replace(part, "…")
    return message
