"""Write keys are looked up in constant time, as the call center's access keys are."""

from __future__ import annotations

import hmac

import pytest
from pydantic import SecretStr

from adapters.web import config
from adapters.web.config import WebSettings


def test_every_write_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = WebSettings(write_keys={"portal": SecretStr("key-portal"), "app": SecretStr("key-app")})
    compared: list[bytes] = []
    original = hmac.compare_digest

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append(a)
        return original(a, b)

    monkeypatch.setattr(config.hmac, "compare_digest", compare_digest)
    assert settings.source_for_key("key-portal") == "portal"
    assert len(compared) == 2  # no early return: the time does not say which key matched
    assert settings.source_for_key("key-app") == "app"
    assert settings.source_for_key("key-") is None and settings.source_for_key("") is None
