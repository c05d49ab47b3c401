"""Masked display forms of identifiers: declared once in ``bus.identifiers.masking``, re-exported here."""

from __future__ import annotations

from bus.identifiers.masking import NATIONAL_ID_TOKEN, mask, mask_keys

__all__ = ["NATIONAL_ID_TOKEN", "mask", "mask_keys"]
