"""Sealing a refused body for an operator's re-drive: authenticated encryption under a deployment key.

An HTTP sender that never sends again (Amazon Connect's Firehose delivery, a Segment SDK after a 400) leaves its refused
body only in the dead letter, whose clear copy has its national IDs and cards as tokens, its phones and e-mails masked
and its free text scrubbed (``bus.dead_letter_clear``). To re-drive it, the body must be kept as it came, without
putting its identifier values in clear on the dead-letter topic: it is kept *sealed*, AES-256-GCM (NIST SP 800-38D)
under a key derived from ``OMNIBUS_DEAD_LETTERS__SEAL_KEY`` with HKDF-SHA-256 (RFC 5869), a random 96-bit nonce per
body, the component's name as associated data (a body sealed for the web hall does not open as the call center's).

Through ``cryptography`` (the Python Cryptographic Authority's binding to OpenSSL, audited and maintained, already
installed with the registry client's dependencies): no cipher written here.

Sealed form: ``FORMAT`` (1 byte) + nonce (12 bytes) + ciphertext and tag. ``key_id``: 8 hex digits that tell which key
sealed a body (HKDF with another ``info``: says nothing of the key), so a body sealed under a previous key is named
as such instead of failing as "corrupt".
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bus.errors import OmnibusError

FORMAT = b"\x01"
NONCE_BYTES = 12  # GCM's recommended IV length (SP 800-38D, 8.2)
MIN_SEAL_KEY_CHARS = 32  # a random text of 32 characters or more: 128 bits and more from any printable alphabet
SEAL_KEY_VARIABLE = "OMNIBUS_DEAD_LETTERS__SEAL_KEY"


class SealError(OmnibusError):
    """A sealed body does not open: another key, another component, or damaged. The message says which."""


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


class Sealer:
    """Seals and opens bodies under one deployment key (``secret``, the setting's text)."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(_derive(secret, b"omnibus dead-letter seal v1"))
        self.key_id = _derive(secret, b"omnibus dead-letter seal key id").hex()[:8]

    def seal(self, body: bytes, component: str) -> bytes:
        """``body`` sealed for ``component`` (``adapter.web``)."""
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT + nonce + self._aead.encrypt(nonce, body, component.encode())

    def open(self, sealed: bytes, component: str) -> bytes:
        """The body ``seal`` sealed for ``component``; raises ``SealError``."""
        if not sealed.startswith(FORMAT) or len(sealed) < 1 + NONCE_BYTES + 16:
            raise SealError("the sealed body is in no format this version reads")
        nonce, ciphertext = sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, component.encode())
        except InvalidTag:
            raise SealError(f"the sealed body does not open with this deployment's {SEAL_KEY_VARIABLE} for "
                            f"{component} (sealed under another key, or damaged)") from None
