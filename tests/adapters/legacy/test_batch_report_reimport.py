"""A file imported while an identifier setting was missing (tester51 F8): set it, run the same command, and the
file was ``already imported``, its national IDs never published. The summary of the import that dropped them for
want of a setting, and the ``already imported`` answer, say how to import the file again: under a new layout
``name`` (docs/legacy-batch.md, "A layout that changed")."""

from __future__ import annotations

from pathlib import Path

from adapters.legacy.cli import context
from adapters.legacy.config import LegacySettings
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from bus.config import OmnibusSettings
from bus.identifiers import IdentifierSettings
from tests.adapters.legacy.support import EXAMPLES
from tests.adapters.web.support import StandInPublisher
from tests.bus.identifiers.support import identifier_settings

LAYOUT, EXPORT = EXAMPLES / "clientes_layout.yaml", EXAMPLES / "clientes.csv"
AGAIN = "import it under a new layout `name`"


async def summaries(identifiers: IdentifierSettings, tmp_path: Path) -> tuple[str, str]:
    """The summaries of importing the example master twice to one state directory under ``identifiers``."""
    layout = load_layout(LAYOUT)
    ctx = context(OmnibusSettings(identifiers=identifiers), LegacySettings(state_dir=tmp_path), layout.phone_region,
                  layout)
    importer = BatchImporter(ctx, StandInPublisher(), tmp_path / "state")  # type: ignore[arg-type]
    first = (await importer.import_file(EXPORT, layout)).summary(EXPORT.name)
    return first, (await importer.import_file(EXPORT, layout)).summary(EXPORT.name)


async def test_national_ids_dropped_for_want_of_a_scheme_say_how_the_file_is_imported_again(tmp_path: Path) -> None:
    first, again = await summaries(identifier_settings(), tmp_path)
    assert "none set, see OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" in first and AGAIN in first, first
    assert "already imported" in again and AGAIN in again, again


async def test_keyed_lines_with_national_ids_are_refused_without_the_key_so_the_file_is_not_remembered(
        tmp_path: Path) -> None:
    """Not published without their IDs (import-batch refuses the layout before reading: ``test_cli_token_key``):
    nothing of the file is remembered, so the same command imports it once the key is set, under the same name."""
    first, again = await summaries(IdentifierSettings(national_id_schemes=["es.dni", "es.nie"]), tmp_path)
    assert "3 rejected" in first and "not remembered as imported" in first and AGAIN not in first, first
    assert "already imported" not in again, again


async def test_an_import_that_dropped_nothing_for_a_setting_does_not_say_it(tmp_path: Path) -> None:
    first, again = await summaries(identifier_settings(national_id_schemes=["es.dni", "es.nie"]), tmp_path)
    assert "dropped" not in first and AGAIN not in first, first
    assert "already imported" in again
