"""Every setting of every Omnibus process, with its default and meaning: ``docs/settings.md``, rendered by
``python -m deploy`` from the settings classes themselves (their fields, defaults and descriptions), so a setting
cannot be added without appearing there (the counter agent's five settings were in
``adapters/branch/agent/config.py`` only; F13: the processors' web ports were in no table).

``SECTIONS`` lists each settings class under its environment prefix; ``tests/omnibus/test_settings_reference.py``
finds every ``ENV_PREFIX`` the code declares and fails when one is not listed here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


@dataclass(frozen=True)
class Section:
    prefix: str  # OMNIBUS_ADAPTER_COUNTER_AGENT__
    model: type[BaseModel]
    what: str  # who reads it, in a few words
    more: str = ""  # the user document that tells more (a relative link from docs/)


def sections() -> list[Section]:
    """Every settings section, the core ones first (``bus.config.OmnibusSettings``), then each component's."""
    from adapters.branch.agent.config import ENV_PREFIX as AGENT
    from adapters.branch.agent.config import AgentSettings
    from adapters.branch.config import ENV_PREFIX as BRANCH
    from adapters.branch.config import BranchSettings
    from adapters.call_center.config import ENV_PREFIX as CALL_CENTER
    from adapters.call_center.config import CallCenterSettings
    from adapters.legacy.config import ENV_PREFIX as LEGACY
    from adapters.legacy.config import LegacySettings
    from adapters.web.config import ENV_PREFIX as WEB
    from adapters.web.config import WebSettings
    from bus.config import ENV_PREFIX, NESTED_DELIMITER, OmnibusSettings
    from processors.handoffs.config import ENV_PREFIX as HANDOFFS
    from processors.handoffs.config import HandoffsSettings
    from processors.identity.config import ENV_PREFIX as IDENTITY
    from processors.identity.config import IdentitySettings
    from processors.kpis.config import ENV_PREFIX as KPIS
    from processors.kpis.config import KpisSettings
    from processors.offers.config import ENV_PREFIX as OFFERS
    from processors.offers.config import OffersSettings
    from processors.profile.limits import ENV_PREFIX as PROFILE
    from processors.profile.limits import ProfileLimits

    core = [Section(f"{ENV_PREFIX}{name.upper()}{NESTED_DELIMITER}", field.annotation, "every process",
                    "../README.md#pointing-omnibus-at-your-cluster")
            for name, field in OmnibusSettings.model_fields.items() if isinstance(field.annotation, type)]
    return [
        *core,
        Section(WEB, WebSettings, "omnibus adapter web run", "../README.md#pointing-omnibus-at-your-cluster"),
        Section(CALL_CENTER, CallCenterSettings, "omnibus adapter call-center run",
                "../adapters/call_center/README.md"),
        Section(BRANCH, BranchSettings, "omnibus adapter branch run", "../adapters/branch/README.md"),
        Section(AGENT, AgentSettings, "omnibus counter-agent run | enqueue | status (on a counter terminal)",
                "../adapters/branch/README.md#the-counter-agent"),
        Section(LEGACY, LegacySettings, "omnibus adapter legacy relay | poll | import-batch | check-layout",
                "legacy-batch.md"),
        Section(IDENTITY, IdentitySettings, "omnibus identity run and its commands",
                "../processors/identity/README.md"),
        Section(HANDOFFS, HandoffsSettings, "omnibus handoffs run and its commands",
                "../processors/handoffs/README.md"),
        Section(OFFERS, OffersSettings, "omnibus offers run and its commands", "../processors/offers/README.md"),
        Section(KPIS, KpisSettings, "omnibus kpis run, report kpis", "kpis.md"),
        Section(PROFILE, ProfileLimits, "identity's screen pop and omnibus verify (set the same on both)"),
    ]


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "unset"
    if field.default_factory is not None and isinstance(value, Path):
        return "computed (see meaning)"  # from $XDG_STATE_HOME or the like: not this machine's value
    if isinstance(value, SecretStr):
        return "(secret)"
    return f"`{_json(value)}`"


def _json(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str | Path):
        return str(value)
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


# Who found a rule (a tester's finding number) is history for commit messages and tests, not for a user document
# (tests/docs/test_readme.py): left out of the descriptions rendered here.
_TRACKER = re.compile(r"\btester\d+(?: [A-Z]+\d+)?(?:[,;] ?)?")


def _cell(text: str) -> str:
    text = re.sub(r" ?\(\s*\)", "", _TRACKER.sub("", text))
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    """``docs/settings.md``: one table per section, a row per setting (variable, default, meaning)."""
    lines = [
        "# Every setting",
        "",
        "Generated by `python -m deploy` from the settings classes (`omnibus/settings_reference.py`); do not edit by "
        "hand. The README's table ([Pointing Omnibus at your cluster](../README.md#pointing-omnibus-at-your-cluster)) "
        "explains the ones most deployments set. A list or mapping is written as JSON; an unknown `OMNIBUS_` "
        "variable is an error (exit 2).",
    ]
    for section in sections():
        source = section.model.__module__.replace(".", "/") + ".py"
        more = f" ([more]({section.more}))" if section.more else ""
        lines += ["", f"## `{section.prefix}*`", "", f"Read by {section.what}; declared in `{source}`{more}.", "",
                  "| variable | default | meaning |", "|---|---|---|"]
        for name, field in section.model.model_fields.items():
            meaning = field.description or f"see `{source}`"
            lines.append(f"| `{section.prefix}{name.upper()}` | {_cell(_default(field))} | {_cell(meaning)} |")
    return "\n".join(lines) + "\n"
