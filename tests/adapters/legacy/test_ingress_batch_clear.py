"""A line ``import-batch`` refused is dead-lettered as its clear copy read by its layout (``bus.dead_letter_lines``):
UTF-8 text whatever the file's encoding, the columns the layout maps to identifiers masked, and shown as text by
``omnibus deadletters show`` (a Latin-1 export's line was a hex blob, its customer number as written)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from adapters.base.runtime import adapter_runtime
from adapters.legacy.cli import context
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from bus.dead_letter_clear import CLEAR_COPY_HEADER
from bus.dead_letter_lines import FILE_ENCODING_HEADER
from bus.identifiers import IdentifierSettings
from bus.identifiers.masking import mask
from bus.serde import SingleObjectDeserializer
from processors.deadletters import HIDDEN, DeadLetter, original
from schemas.catalog import default_catalog
from tests.adapters.legacy.support import EXAMPLES, legacy_settings
from tests.support.kafka_io import read_dead_letters
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

# The example customer master's line with an IBAN that fails its check digits: the line's key, so the line is refused.
REFUSED = ("C-5009;70011223M;Marta;Ruiz Gil;21/07/1990;ES79 2100 0813 6101 2345 6780;cuenta nómina;estándar;"
           "677 123 456;;marta.ruiz@example.es;41001;15/07/2026 12:30:00")
IDENTIFIERS = ("C-5009", "70011223M", "2345 6780", "677 123 456", "marta.ruiz@example.es")


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
async def test_a_refused_line_is_its_readable_text_with_the_identifier_columns_masked(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path, encoding: str
) -> None:
    # the example's national IDs leave only as tokens: a layout reading them needs the key (``token_fields``)
    settings = (await settings_with_topics(bootstrap_servers)).model_copy(update={"identifiers": IdentifierSettings(
        hmac_key="k" * 32, default_region="ES", national_id_schemes=["es.dni", "es.nie"])})
    layout = load_layout(EXAMPLES / "clientes_layout.yaml")
    layout = layout.model_copy(update={"encoding": encoding})
    legacy = legacy_settings(tmp_path)
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    importer = BatchImporter(context(settings, legacy, layout.phone_region), runtime.publisher, tmp_path)
    lines = (EXAMPLES / "clientes.csv").read_text(encoding="latin-1").splitlines()
    path = tmp_path / "clientes.csv"
    path.write_bytes("\n".join([lines[0], lines[1], REFUSED]).encode(encoding) + b"\n")
    report = await importer.import_file(path, layout)
    assert list(report.rejected) == [3] and report.published_events > 0
    (letter,) = await read_dead_letters(settings)
    text = letter["value"].decode("utf-8")
    columns = text.split(";")
    assert len(columns) == 13 and columns[0] == mask("CUSTOMER_NUMBER", "C-5009")
    assert columns[2:4] == ["Marta", "Ruiz Gil"] and columns[6:8] == ["cuenta nómina", "estándar"]
    assert columns[8] == "*****3456" and not any(value in text for value in IDENTIFIERS)
    headers = {h["key"]: h["value"] for h in letter["headers"]}
    assert headers[CLEAR_COPY_HEADER] == b"masked" and headers["file.line"] == b"3"
    assert headers.get(FILE_ENCODING_HEADER) == (b"latin-1" if encoding == "latin-1" else None)
    shown = DeadLetter("p.deadletter.v1", 0, 0, letter)
    deserializer = SingleObjectDeserializer(default_catalog())
    revealed = original(shown, deserializer, reveal=True)
    assert revealed["format"] == "text" and revealed["value"] == text  # was hex for a Latin-1 file
    hidden = original(shown, deserializer)
    assert hidden["format"] == "text" and hidden["value"] == HIDDEN
