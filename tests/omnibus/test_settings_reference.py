"""Every setting of every process is in the user documents (tester28 F12: the counter agent's
``OMNIBUS_ADAPTER_COUNTER_AGENT__ADAPTER_URL``, ``TERMINAL_ID``, ``BRANCH_ID``, ``TOKEN`` and ``JOURNAL_PATH`` were in
``adapters/branch/agent/config.py`` only; F13: ``OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT`` and ``..._OFFERS__WEB_PORT``
were in no table).

Why the README test missed them: ``tests/docs/test_readme.py`` checks only the list and mapping settings of the four
adapters' classes; the agent's class and the processors' were in no list, and scalar settings were not looked at.
Here the sections come from the code: every ``ENV_PREFIX`` a module declares must be a section of the generated
reference, and every field of every section a row of ``docs/settings.md`` (kept current by ``python -m deploy``,
``tests/deploy/test_generated.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

from omnibus.settings_reference import render, sections

ROOT = Path(__file__).resolve().parents[2]
DECLARED = re.compile(r'^ENV_PREFIX = "(OMNIBUS_[A-Z_]+__)"', re.MULTILINE)


def _declared_prefixes() -> dict[str, str]:
    found = {}
    for top in ("adapters", "bus", "processors", "omnibus", "demo"):
        for path in (ROOT / top).rglob("*.py"):
            for prefix in DECLARED.findall(path.read_text(encoding="utf-8")):
                found[prefix] = str(path.relative_to(ROOT))
    return found


def test_every_settings_prefix_the_code_declares_is_a_section_of_the_reference() -> None:
    declared = _declared_prefixes()
    assert "OMNIBUS_ADAPTER_COUNTER_AGENT__" in declared and "OMNIBUS_PROCESSOR_PROFILE__" in declared
    listed = {section.prefix for section in sections()}
    assert not {prefix: path for prefix, path in declared.items() if prefix not in listed}


def test_every_field_of_every_section_is_a_row_of_docs_settings_md() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert text == render(), "run `python -m deploy`"
    missing = [f"{section.prefix}{name.upper()}" for section in sections() for name in section.model.model_fields
               if f"| `{section.prefix}{name.upper()}` |" not in text]
    assert not missing, missing


def test_the_reported_settings_are_in_the_readme_table_and_the_table_links_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("| `OMNIBUS_"))
    for variable in ("OMNIBUS_ADAPTER_COUNTER_AGENT__ADAPTER_URL", "OMNIBUS_ADAPTER_COUNTER_AGENT__TERMINAL_ID",
                     "OMNIBUS_ADAPTER_COUNTER_AGENT__BRANCH_ID", "OMNIBUS_ADAPTER_COUNTER_AGENT__TOKEN",
                     "OMNIBUS_ADAPTER_COUNTER_AGENT__JOURNAL_PATH", "OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT",
                     "OMNIBUS_PROCESSOR_OFFERS__WEB_PORT"):
        short = variable.rpartition("__")[2]
        assert f"`{variable}`" in rows or re.search(rf"`{re.escape(variable.rpartition('__')[0])}__[^|]*`__{short}`",
                                                    rows), variable
    assert "(docs/settings.md)" in readme
