"""The shapes of the tokens and ids Omnibus itself issues, declared once, in a module light enough for the logging of
every process (``bus.redact`` reads it; ``bus.identifiers`` would load phonenumbers and python-stdnum).

- A secret's keyed token (``bus.identifiers.tokens``): ``SECRET_TOKEN_PREFIXES[kind]`` + ``SECRET_TOKEN_HEX_DIGITS``
  lowercase hex digits (``nid1:8ead8fb0…``, ``card1:…``): on the topics in place of a national ID or a card number.
- A log token (``bus.redact.token``): ``LOG_TOKEN_PREFIX`` + ``LOG_TOKEN_HEX_DIGITS`` hex digits (``tok:3f09a1c2d4``),
  what a log line shows for the value of a field named as an identifier.
- A customer id (``processors.identity.graph.saga``): ``CUSTOMER_ID_PREFIX`` + ``CUSTOMER_ID_HEX_DIGITS`` hex digits.

None of them is an identifier value: they are what stands for one (or for a customer), and an operator compares them
across outputs (``nid1:8ead8fb[digits]a40e…`` in a dead letter could not be compared with identity's
tokens). ``ISSUED`` finds any of them in a text.
"""

from __future__ import annotations

import re

SECRET_TOKEN_PREFIXES = {"NATIONAL_ID": "nid1:", "CARD": "card1:"}
SECRET_TOKEN_HEX_DIGITS = 32
LOG_TOKEN_PREFIX = "tok:"
LOG_TOKEN_HEX_DIGITS = 10
CUSTOMER_ID_PREFIX = "cus_"
CUSTOMER_ID_HEX_DIGITS = 24

_SHAPES = [(prefix, SECRET_TOKEN_HEX_DIGITS) for prefix in SECRET_TOKEN_PREFIXES.values()] + [
    (LOG_TOKEN_PREFIX, LOG_TOKEN_HEX_DIGITS), (CUSTOMER_ID_PREFIX, CUSTOMER_ID_HEX_DIGITS)]
# One of them, whole: not inside a longer word, not followed by more letters or digits.
ISSUED = re.compile("(?<![A-Za-z0-9_])(?:" + "|".join(f"{re.escape(prefix)}[0-9a-f]{{{digits}}}"
                                                       for prefix, digits in _SHAPES) + ")(?![A-Za-z0-9])")
