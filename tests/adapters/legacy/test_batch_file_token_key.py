"""A keyed line holding a national ID, imported while no HMAC key is set: its content is compared with its key's last
revision with the ID as its token, so an unchanged line read as changed and was published again as a newer fact
without its ID (a nightly customer master run without the key). The importer refuses such a line, setting named,
instead; ``import-batch`` refuses the layout before reading (``test_cli_token_key``)."""

from __future__ import annotations

from pathlib import Path

from adapters.legacy.batch_report import BatchReport
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
SCHEMES = ["es.dni", "es.nie"]


async def imported(path: Path, identifiers: IdentifierSettings, state: Path) -> tuple[BatchReport, StandInPublisher]:
    layout = load_layout(LAYOUT)
    ctx = context(OmnibusSettings(identifiers=identifiers), LegacySettings(state_dir=state), layout.phone_region,
                  layout)
    publisher = StandInPublisher()
    importer = BatchImporter(ctx, publisher, state / "state")  # type: ignore[arg-type]
    return await importer.import_file(path, layout), publisher


def one_line_changed(tmp_path: Path) -> Path:
    """The example master with its first customer's last change one second later: the other lines unchanged."""
    lines = EXPORT.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"18:04:11", b"18:04:12")
    copy = tmp_path / "clientes-2.csv"
    copy.write_bytes(b"\n".join(lines))
    return copy


async def test_unchanged_keyed_lines_are_not_published_again_as_changed_without_their_national_id(
        tmp_path: Path) -> None:
    keyed = identifier_settings(national_id_schemes=SCHEMES)
    first, published = await imported(EXPORT, keyed, tmp_path)
    ids = {record.dedupe_id for record in published.submitted}
    assert first.lines == 3 and not first.rejected, first.summary(EXPORT.name)

    copy = one_line_changed(tmp_path)
    without_key, published = await imported(copy, IdentifierSettings(national_id_schemes=SCHEMES), tmp_path)
    assert without_key.changed == 0 and not published.submitted, without_key.summary(copy.name)
    assert len(without_key.rejected) == 3, without_key.summary(copy.name)
    assert all("OMNIBUS_IDENTIFIERS__HMAC_KEY" in reason for reason in without_key.rejected.values())
    assert all(error.code == "no_token_key" for _, error in published.rejected)

    # with the key set again the same file is compared as before: one line changed, the others duplicates of theirs
    again, published = await imported(copy, keyed, tmp_path)
    assert again.changed == 1, again.summary(copy.name)
    unchanged = [record.dedupe_id for record in published.submitted if "@" not in record.dedupe_id]
    assert len(unchanged) == 2 and set(unchanged) <= ids



async def test_unchanged_keyed_lines_are_not_published_again_when_the_national_id_schemes_are_missing(
        tmp_path: Path) -> None:
    """The rest of the kind: with the key set but the schemes unset (a nightly job's settings lost one), each DNI is
    refused, spelled as written, and no earlier digest holds it. The lines' other fields tell: the unchanged ones stay
    duplicates of their revision; the changed one is a newer fact (without its DNI, counted dropped, as before)."""
    first, published = await imported(EXPORT, identifier_settings(national_id_schemes=SCHEMES), tmp_path)
    ids = {record.dedupe_id for record in published.submitted}
    copy = one_line_changed(tmp_path)
    again, published = await imported(copy, identifier_settings(), tmp_path)
    assert again.changed == 1 and not again.rejected, again.summary(copy.name)
    unchanged = [record.dedupe_id for record in published.submitted if "@" not in record.dedupe_id]
    assert len(unchanged) == 2 and set(unchanged) <= ids
