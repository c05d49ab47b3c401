"""Sealing a refused body (tester29 F5): AES-256-GCM under a key derived from the deployment's seal key."""

from __future__ import annotations

import pytest

from bus.config import load_settings
from bus.errors import ConfigError
from bus.sealing import Sealer, SealError

KEY, OTHER = "k" * 32, "o" * 32


def test_a_sealed_body_opens_with_the_same_key_for_the_same_component() -> None:
    body = b'{"CustomerEndpoint": {"Address": "+34612345678"}}'
    sealed = Sealer(KEY).seal(body, "adapter.call_center")
    assert b"+34612345678" not in sealed and sealed != Sealer(KEY).seal(body, "adapter.call_center")  # a nonce each
    assert Sealer(KEY).open(sealed, "adapter.call_center") == body


def test_another_key_another_component_or_a_damaged_body_do_not_open() -> None:
    sealed = Sealer(KEY).seal(b"body", "adapter.web")
    with pytest.raises(SealError, match="another key, or damaged"):
        Sealer(OTHER).open(sealed, "adapter.web")
    with pytest.raises(SealError):
        Sealer(KEY).open(sealed, "adapter.branch")
    with pytest.raises(SealError):
        Sealer(KEY).open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "adapter.web")
    with pytest.raises(SealError, match="no format"):
        Sealer(KEY).open(b"\x02" + sealed[1:], "adapter.web")


def test_the_key_id_names_the_key_and_tells_nothing_of_it() -> None:
    assert Sealer(KEY).key_id == Sealer(KEY).key_id != Sealer(OTHER).key_id
    assert len(Sealer(KEY).key_id) == 8 and "k" not in Sealer(KEY).key_id


def test_the_setting_is_a_secret_of_32_characters_or_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_DEAD_LETTERS__SEAL_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings()
    monkeypatch.setenv("OMNIBUS_DEAD_LETTERS__SEAL_KEY", KEY)
    settings = load_settings()
    assert settings.dead_letters.seal_key is not None and KEY not in repr(settings)
