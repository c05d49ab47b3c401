"""The example layouts docs/legacy-batch.md offers to copy load, and read their sample files as the import would
(tester32 F17: the only complete examples lived under tests/; a customer master and a card-status export added)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.legacy.cli import context
from adapters.legacy.config import LegacySettings
from adapters.legacy.layout import load_layout
from adapters.legacy.layout_check import check_lines
from bus.config import OmnibusSettings
from bus.identifiers import IdentifierSettings
from tests.adapters.legacy.support import EXAMPLES
from tests.bus.identifiers.support import identifier_settings

GUIDE = Path(__file__).parents[2] / "docs" / "legacy-batch.md"
LAYOUTS = sorted(EXAMPLES.glob("*_layout.yaml"))
# the import's identifier settings a Spanish bank sets (national IDs leave as tokens: a key is needed)
SETTINGS = OmnibusSettings(identifiers=identifier_settings(default_region="ES",
                                                           national_id_schemes=["es.dni", "es.nie"]))


def sample_of(layout: Path) -> Path:
    """The example file a layout reads: ``bills_layout.yaml`` reads ``bills.csv``."""
    (sample,) = [path for path in EXAMPLES.iterdir()
                 if path.stem == layout.name.removesuffix("_layout.yaml") and path.suffix != ".yaml"]
    return sample


def test_the_examples_include_a_customer_master_and_a_card_status_export() -> None:
    assert {"bills", "overdue", "clientes", "tarjetas"} <= {p.name.removesuffix("_layout.yaml") for p in LAYOUTS}


@pytest.mark.parametrize("layout_path", LAYOUTS, ids=lambda path: path.name)
def test_each_example_layout_reads_every_line_of_its_sample_whole(layout_path: Path, tmp_path: Path) -> None:
    """Valid, every line published, nothing dropped, every card status word known (check-layout's dry run)."""
    layout = load_layout(layout_path)
    sample = sample_of(layout_path)
    check = check_lines(sample, layout, context(SETTINGS, LegacySettings(state_dir=tmp_path), layout.phone_region,
                                                layout))
    assert check.lines > 1
    summary = check.summary(sample.name)
    assert summary.startswith(f"{sample.name}: {check.lines} lines checked, {check.lines} would be published as ")
    assert summary.endswith(", 0 rejected") and not check.unpublished_identifiers()


@pytest.mark.parametrize("layout_path", LAYOUTS, ids=lambda path: path.name)
def test_the_guide_links_each_example_and_its_sample(layout_path: Path) -> None:
    guide = GUIDE.read_text()
    for path in (layout_path, sample_of(layout_path)):
        assert f"(examples/layouts/{path.name})" in guide


def test_no_example_is_left_in_the_test_tree() -> None:
    """One copy: the tests read the examples from docs/examples/layouts."""
    samples = Path(__file__).parents[1] / "adapters" / "legacy" / "samples"
    assert not {path.name for path in samples.iterdir()} & {path.name for path in EXAMPLES.iterdir()}


NATIONAL_ID_LAYOUTS = [path for path in LAYOUTS if "national_id" in load_layout(path).fields]


def test_the_spanish_examples_are_among_those_naming_a_national_id() -> None:
    assert {"clientes_layout.yaml", "tarjetas_layout.yaml"} <= {path.name for path in NATIONAL_ID_LAYOUTS}


@pytest.mark.parametrize("layout_path", NATIONAL_ID_LAYOUTS, ids=lambda path: path.name)
def test_a_layout_naming_a_national_id_says_which_setting_checks_it_where_it_is_read_first(layout_path: Path) -> None:
    """tester50 F16: the Spanish layouts named only the HMAC key, and every DNI was dropped (exit 0) without
    ``OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES``: the header and the ``national_id`` line now name it."""
    lines = layout_path.read_text(encoding="utf-8").splitlines()
    header = "\n".join(line for line in lines[:next(i for i, line in enumerate(lines) if not line.startswith("#"))])
    assert "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" in header and "OMNIBUS_IDENTIFIERS__HMAC_KEY" in header
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("national_id:"))
    comment = " ".join(line.partition("#")[2] for line in lines[at:at + 2] if line.startswith(" ") and "#" in line)
    assert "NATIONAL_ID_SCHEMES" in comment


@pytest.mark.parametrize("layout_path", NATIONAL_ID_LAYOUTS, ids=lambda path: path.name)
def test_without_the_schemes_a_layouts_national_ids_are_said_dropped_for_want_of_a_scheme(
        layout_path: Path, tmp_path: Path) -> None:
    """tester50 F16: ``clientes.csv: ... 3 identifiers dropped (NATIONAL_ID 3 malformed)`` of valid DNIs checked under
    the default cn.ric: now the summary names the missing setting, not a malformed number."""
    layout = load_layout(layout_path)
    sample = sample_of(layout_path)
    bare = OmnibusSettings(identifiers=identifier_settings())
    check = check_lines(sample, layout, context(bare, LegacySettings(state_dir=tmp_path), layout.phone_region, layout))
    summary = check.summary(sample.name)
    assert "refused by the default scheme cn.ric: none set, see OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" in summary
    assert "NATIONAL_ID" in summary and "malformed" not in summary


@pytest.mark.parametrize("layout_path", NATIONAL_ID_LAYOUTS, ids=lambda path: path.name)
def test_without_the_schemes_check_layout_exits_3_and_says_no_national_id_would_be_published(
        layout_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """small55: ``check-layout`` of the Spanish examples exited 0 while every DNI was dropped for want of a scheme: a
    layout that publishes none of an identifier it reads is a "nothing usable" outcome, exit 3 as a rejected line."""
    from typer.testing import CliRunner

    from adapters.base.cli import EXIT_REJECTED_LINES
    from adapters.legacy.cli import app

    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "k" * 32)
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES", raising=False)
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__DEFAULT_REGION", raising=False)
    command = ["check-layout", "--layout", str(layout_path), str(sample_of(layout_path))]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == EXIT_REJECTED_LINES, result.output
    assert ("error: no NATIONAL_ID of a sample would be published (every one read would be dropped, see its summary "
            "line): set OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES") in result.output, result.output
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES", '["es.dni", "es.nie"]')
    assert CliRunner().invoke(app, command).exit_code == 0


def _checked(layout_path: Path, identifiers: IdentifierSettings, tmp_path: Path) -> str:
    """The file summary check-layout prints for the sample of ``layout_path`` under ``identifiers``."""
    layout, sample = load_layout(layout_path), sample_of(layout_path)
    settings = OmnibusSettings(identifiers=identifiers)
    check = check_lines(sample, layout, context(settings, LegacySettings(state_dir=tmp_path), layout.phone_region,
                                                layout))
    return check.summary(sample.name)


@pytest.mark.parametrize("layout_path", [path for path in NATIONAL_ID_LAYOUTS if load_layout(path).event
                                         != "CardStatusChanged"], ids=lambda path: path.name)
def test_without_the_hmac_key_a_layouts_national_ids_are_said_dropped_for_want_of_the_key(
        layout_path: Path, tmp_path: Path) -> None:
    """tester51 F6: valid DNIs were counted ``NATIONAL_ID 3 malformed`` without OMNIBUS_IDENTIFIERS__HMAC_KEY: the
    summary names the missing setting, once for the file."""
    summary = _checked(layout_path, IdentifierSettings(national_id_schemes=["es.dni", "es.nie"]), tmp_path)
    assert "NATIONAL_ID 3 not tokenised: no HMAC key set, see OMNIBUS_IDENTIFIERS__HMAC_KEY" in summary, summary
    assert "malformed" not in summary and summary.count("HMAC_KEY") == 1


@pytest.mark.parametrize("layout_path", NATIONAL_ID_LAYOUTS, ids=lambda path: path.name)
def test_under_another_regions_schemes_a_layouts_national_ids_are_said_malformed_under_those_schemes(
        layout_path: Path, tmp_path: Path) -> None:
    """tester51 F7: a French deployment importing the Spanish master read ``NATIONAL_ID 3 malformed``, the words of a
    mistyped number: the summary names the schemes checked and the setting that chooses them."""
    summary = _checked(layout_path, identifier_settings(default_region="FR"), tmp_path)
    said = r"NATIONAL_ID \d+ malformed under fr.nir, see OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES\)"
    assert re.search(said, summary), summary
