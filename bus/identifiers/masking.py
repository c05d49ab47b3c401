"""Masked display forms of identifiers: enough to recognise one on a screen, not enough to use it."""

from __future__ import annotations

import re

NATIONAL_ID_TOKEN = re.compile(r"^nid1:[0-9a-f]{32}$")


def mask(kind: str, value: str) -> str:
    """A display form that shows enough to recognise an identifier and not enough to use it."""
    if kind == "PHONE":
        return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)
    if kind == "EMAIL":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "NATIONAL_ID":
        return f"nid1:…{value[-4:]}" if NATIONAL_ID_TOKEN.match(value) else "[national id]"
    if kind in ("ACCOUNT", "CARD"):
        return "****" + value[-4:] if len(value) > 4 else "****"
    return value[:4] + "…" if len(value) > 4 else "…"
