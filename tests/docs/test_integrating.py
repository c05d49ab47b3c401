"""docs/integrating.md's settings block (step 4), as a Spanish bank copies it: its literal exports load."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bus.config import load_settings
from processors.kpis.config import load_kpis_settings
from processors.offers import config as offers_config

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrating.md"


def literal_exports() -> dict[str, str]:
    """NAME -> value of each ``export NAME=value`` of step 4's block whose value names no shell variable."""
    block = GUIDE.read_text(encoding="utf-8").split("## 4. Your settings", 1)[1].split("```bash", 1)[1]
    exported: dict[str, str] = {}
    for line in block.split("```", 1)[0].splitlines():
        if not line.startswith("export ") or "$" in line:
            continue
        for word in shlex.split(line, comments=True)[1:]:
            name, _, value = word.partition("=")
            exported[name] = value
    return exported


def test_the_block_sets_the_time_zones_a_spanish_bank_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block left the offers' quiet hours in UTC with a start-up warning (Spain has two zones, so none is
    assumed) although the paragraph below it says to set the zone: a new user copies the block."""
    exported = literal_exports()
    assert re.fullmatch(r"[A-Z]{2}", exported["OMNIBUS_IDENTIFIERS__DEFAULT_REGION"])
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    warned: list[str] = []
    monkeypatch.setattr(offers_config, "log", _Recorder(warned))
    region = load_settings().identifiers.default_region
    offers = offers_config.load_offers_settings().in_region(region)
    assert warned == [] and offers.zone == "Europe/Madrid"
    assert load_kpis_settings().timezone == "Europe/Madrid"


class _Recorder:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def warning(self, event: str, **_: object) -> None:
        self.lines.append(event)
