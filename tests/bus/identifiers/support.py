"""Identifier settings the tests share: a fixed token key, so tokens are reproducible."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bus.identifiers import IdentifierNormaliser, IdentifierSettings

TEST_KEY = "test-hmac-key-0123456789"  # the identity tests' key too: one token per number everywhere


def identifier_settings(**overrides: Any) -> IdentifierSettings:
    return IdentifierSettings(**{"hmac_key": SecretStr(TEST_KEY), **overrides})


def normaliser(**overrides: Any) -> IdentifierNormaliser:
    return IdentifierNormaliser(identifier_settings(**overrides))
