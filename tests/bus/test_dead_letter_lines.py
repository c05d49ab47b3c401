"""The clear copy of a refused file line whose columns are known: UTF-8 text an operator reads whatever the file's
encoding, each identifier column masked by its kind, the other columns scrubbed, the line's shape kept
(``bus.dead_letter_lines``, through ``bus.dead_letter_clear.ClearCopy``)."""

from __future__ import annotations

import pytest

from bus.dead_letter_clear import CLEAR_COPY_HEADER, MASKED
from bus.dead_letter_lines import FILE_ENCODING_HEADER, LineShape
from bus.errors import RawRecord
from bus.identifiers.masking import mask
from tests.bus.identifiers.support import normaliser
from tests.bus.test_dead_letter_protect import clear_copy

HEADER = "NUM_CLIENTE;NIF;NOMBRE;APELLIDOS;FECHA_NAC;IBAN;PRODUCTO;SEGMENTO;MOVIL;TELEFONO;EMAIL;CP;FECHA_MODIF"
LINE = ("C-5009;70011223M;Marta;Ruiz Gil;21/07/1990;ES79 2100 0813 6101 2345 6780;cuenta nómina;estándar;677 123 456;"
        ";marta.ruiz@example.es;41001;15/07/2026 12:30:00")
# The example customer master's columns as its layout maps them (docs/examples/layouts/clientes_layout.yaml).
CLIENTES = {0: "CUSTOMER_NUMBER", 1: "NATIONAL_ID", 5: "ACCOUNT", 8: "PHONE", 9: "PHONE", 10: "EMAIL"}
TOKENS = normaliser(national_id_schemes=("es.dni", "es.nie"))  # a Spanish bank's


def csv_shape(encoding: str = "latin-1", identifiers: dict[int, str] | None = None) -> LineShape:
    return LineShape(encoding=encoding, delimiter=";", identifiers=CLIENTES if identifiers is None else identifiers)


def cleared(data: bytes, shape: LineShape) -> RawRecord:
    return clear_copy(TOKENS).record(RawRecord(value=data, headers=(("file", b"clientes.csv"), ("file.line", b"3")),
                                         line=shape))


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8", "cp1252"])
def test_a_line_is_utf_8_text_with_its_identifier_columns_masked_and_its_shape_kept(encoding: str) -> None:
    record = cleared(LINE.encode(encoding), csv_shape(encoding))
    assert record.value is not None
    text = record.value.decode("utf-8")  # readable whatever the file's encoding
    cells = text.split(";")
    assert len(cells) == len(LINE.split(";")) == len(HEADER.split(";"))  # the separator and the column order kept
    assert cells[0] == mask("CUSTOMER_NUMBER", "C-5009") and "C-5009" not in text  # short: free text kept it
    assert cells[1] == TOKENS.normalise("NATIONAL_ID", "70011223M").value  # a national ID stays its token
    assert cells[5] == mask("ACCOUNT", "ES79 2100 0813 6101 2345 6780") and "6101" not in text
    assert cells[8] == "*****3456" and cells[9] == ""
    assert cells[10] == mask("EMAIL", "marta.ruiz@example.es")
    assert cells[2:4] == ["Marta", "Ruiz Gil"] and cells[6:8] == ["cuenta nómina", "estándar"]
    assert cells[4] == "[date dd/dd/dddd]" and cells[11] == "41001"  # the other columns as free text, as before
    headers = dict(record.headers)
    assert headers[CLEAR_COPY_HEADER] == MASKED
    # the bytes of the file are not the copy's: its encoding said; a UTF-8 file's are (the identifiers aside)
    assert headers.get(FILE_ENCODING_HEADER) == (None if encoding == "utf-8" else encoding.encode())


def test_a_quoted_column_keeps_its_quotes_and_a_separator_inside_it_stays_one_column() -> None:
    line = '"C-5009";"Ruiz; ""Gil""";677 123 456;""'.encode("latin-1")
    shape = csv_shape(identifiers={0: "CUSTOMER_NUMBER", 2: "PHONE", 3: "EMAIL"})
    text = (cleared(line, shape).value or b"").decode()
    assert text == f'"{mask("CUSTOMER_NUMBER", "C-5009")}";"Ruiz; ""Gil""";*****3456;""'


@pytest.mark.parametrize(("kind", "value", "shown"), [
    ("PHONE", "+34677123456", "+34*****3456"),
    ("PHONE", "0612345678", "******5678"),
    ("EMAIL", "ana.lima@example.org", mask("EMAIL", "ana.lima@example.org")),
    ("ACCOUNT", "CA-00200001", mask("ACCOUNT", "CA-00200001")),
    ("CUSTOMER_NUMBER", "CB-77002", mask("CUSTOMER_NUMBER", "CB-77002")),
    ("SUPPLY_POINT", "ES0021000000123456AB", mask("SUPPLY_POINT", "ES0021000000123456AB")),
    ("NATIONAL_ID", "70011223M", None),  # its token
    ("NATIONAL_ID", "12345678A", "[national id]"),  # no valid DNI: no token, never shown
    ("CARD", "4111 1111 1111 1111", None),  # its token
    ("CARD", "4111 1111 1111 1112", "****1112"),  # fails its Luhn check: shown as a card, by its last four
    ("DEVICE", "353456789012345", mask("DEVICE", "353456789012345")),
])
def test_each_identifier_kind_a_column_holds_shows_its_mask(kind: str, value: str, shown: str | None) -> None:
    text = (cleared(f"x;{value};y".encode(), csv_shape("utf-8", {1: kind})).value or b"").decode()
    first, cell, last = text.split(";")
    assert (first, last) == ("x", "y")
    if shown is None:
        assert cell == TOKENS.normalise(kind, value).value and value not in text
    else:
        assert cell == shown


def test_a_byte_not_valid_in_the_files_encoding_is_shown_as_its_escape_the_rest_read() -> None:
    """A line that fails to decode (a record cut inside a quoted field, a CDR in another charset)."""
    line = "C-5009;cuenta nómina;677 123 456".encode("latin-1")
    record = cleared(line, csv_shape("utf-8", {0: "CUSTOMER_NUMBER", 2: "PHONE"}))
    text = (record.value or b"").decode("utf-8")  # valid UTF-8: shown as text
    assert text == f"{mask('CUSTOMER_NUMBER', 'C-5009')};cuenta n\\xf3mina;*****3456"
    assert FILE_ENCODING_HEADER not in dict(record.headers)


def test_a_line_ending_inside_a_quoted_field_is_read_to_its_end() -> None:
    text = (cleared(b'C-5009;"677 123 456;x\ny', csv_shape("utf-8", {0: "CUSTOMER_NUMBER"})).value or b"").decode()
    assert text == f'{mask("CUSTOMER_NUMBER", "C-5009")};"[digits];x\ny'


FIXED = LineShape(encoding="latin-1", spans=((1, 12, "ACCOUNT"), (13, 18, None), (31, 12, "PHONE"),
                                             (43, 10, None)))


def test_a_fixed_width_line_keeps_each_column_where_it_was() -> None:
    line = "CA-00200001 F2024-03-0042117  677123456   Zoë García"
    text = (cleared(line.encode("latin-1"), FIXED).value or b"").decode("utf-8")
    assert "677123456" not in text and "00200001" not in text
    # each field padded to its width (a wider mask pushes the rest right); a scrubbed column too
    assert text == mask("ACCOUNT", "CA-00200001").ljust(12) + "[digits]".ljust(18) + "*****3456".ljust(12) + "Zoë García"


def test_a_fixed_width_line_shorter_than_its_layout_is_cleared_as_far_as_it_goes() -> None:
    text = (cleared(b"CA-00200001 F2024", FIXED).value or b"").decode()
    assert text == mask("ACCOUNT", "CA-00200001").ljust(12) + "F2024"


def test_the_text_between_and_after_the_fields_is_scrubbed_as_free_text() -> None:
    shape = LineShape(spans=((1, 6, "CUSTOMER_NUMBER"),))
    text = (cleared(b"C-5009 call 677 123 456", shape).value or b"").decode()
    assert text == f"{mask('CUSTOMER_NUMBER', 'C-5009')} call [digits]"


def test_a_record_without_a_line_shape_is_scrubbed_whole_as_before() -> None:
    record = clear_copy().record(RawRecord(value=LINE.encode("latin-1"), headers=(("file", b"clientes.csv"),)))
    assert FILE_ENCODING_HEADER not in dict(record.headers) and b"C-5009" in (record.value or b"")


def test_overlapping_fixed_width_fields_are_one_column_an_identifiers_when_either_is_one() -> None:
    shape = LineShape(spans=((1, 6, None), (4, 9, "PHONE")))
    assert (cleared(b"AB-677123456|rest", shape).value or b"").decode() == "*****3456".ljust(12) + "|rest"
