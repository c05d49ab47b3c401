"""Where a national ID scheme's module is: python-stdnum's ``stdnum.<scheme>``, or one of ours with the same
interface (``compact``, ``validate``) for a number python-stdnum has no module for (``OWN_SCHEMES``)."""

from __future__ import annotations

import importlib
from types import ModuleType

OWN_SCHEMES = {"gb.nino": "bus.identifiers.gb_nino"}  # the UK National Insurance number (HMRC NIM39110)


def scheme_module(scheme: str) -> ModuleType:
    """The module validating ``scheme`` (``"fr.nir"``, ``"gb.nino"``); raises ``ImportError`` for an unknown one."""
    return importlib.import_module(OWN_SCHEMES.get(scheme, f"stdnum.{scheme}"))
