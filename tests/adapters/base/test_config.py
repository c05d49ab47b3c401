"""Where an adapter remembers the source ids it published (tester11 #1: in memory by default, so a restarted
adapter published its senders' redeliveries again)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.base.config import AdapterSettings, dedupe_file


@pytest.mark.parametrize("adapter", ["web", "branch", "call_center"])
def test_a_single_process_adapter_keeps_its_dedupe_file_under_the_state_home(
    adapter: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert dedupe_file(adapter, AdapterSettings(port=44101)) == tmp_path / "omnibus" / adapter / "dedupe-44101.sqlite"


def test_memory_only_when_asked_or_on_a_port_picked_at_each_start(tmp_path: Path) -> None:
    assert dedupe_file("web", AdapterSettings(port=44101, dedupe_in_memory=True)) is None
    assert dedupe_file("web", AdapterSettings(port=0)) is None
    assert dedupe_file("web", AdapterSettings(port=0, dedupe_path=tmp_path / "d.sqlite")) == tmp_path / "d.sqlite"


def test_a_file_and_the_opt_out_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        AdapterSettings(dedupe_path=tmp_path / "d.sqlite", dedupe_in_memory=True)
