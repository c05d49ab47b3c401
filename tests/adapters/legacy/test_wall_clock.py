"""A layout's ``timezone``: times an export writes without a zone are that zone's wall-clock time (tester32 F3).

tester32's core-banking card export wrote ``03/12/2026 08:30`` in Madrid time; read as UTC, the card blocked at
07:30Z was recorded at 08:30Z, after a fraudulent call at 08:00Z that it preceded.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import Layout
from adapters.legacy.wall_clock import NONEXISTENT_TIME, day_start, local_instant
from tests.adapters.legacy.support import utc
from tests.adapters.legacy.test_mapper_identifiers import ctx
from tests.adapters.legacy.test_undated import EXPORTED, layout, mapped_line

MADRID = ZoneInfo("Europe/Madrid")
CARDS = """name: tarjetas
format: csv
event: CardStatusChanged
delimiter: ";"
timezone: Europe/Madrid
occurred_at: changed_at
fields:
  card_number: {column: PAN}
  card_status: {column: ESTADO}
  reason: {column: MOTIVO}
  changed_at: {column: FECHA, type: timestamp, format: "%d/%m/%Y %H:%M"}
"""
CARDS_HEADER = "PAN;ESTADO;MOTIVO;FECHA"
CLOSURES = """name: closures
format: csv
event: AccountClosed
delimiter: ";"
timezone: Europe/Madrid
occurred_at: closed_on
fields:
  account_number: {column: CONTRAT}
  closed_on: {column: FECHA_BAJA, type: date, format: "%d/%m/%Y"}
"""
PRODUCTS = """name: productos
format: csv
event: ProductSubscribed
delimiter: ";"
fields:
  account_number: {column: CONTRATO}
  subscription_id: {column: SUSCRIPCION}
  product_code: {column: PRODUCTO}
  product_name: {column: PRODUCTO}
  effective_at: {column: DESDE, type: date, format: "%d/%m/%Y", timezone: Europe/Madrid}
"""


def card_time(tmp_path: Path, written: str, layout_text: str = CARDS) -> datetime:
    value = mapped_line(tmp_path, layout_text, CARDS_HEADER, f"4111111111111111;BLOQUEADA;fraude;{written}",
                        ctx(tmp_path))
    return value["envelope"]["occurred_at"]


def test_tester32_f3_a_madrid_card_block_is_the_instant_madrid_meant(tmp_path: Path) -> None:
    """08:30 in Madrid in winter is 07:30Z (before this version: 08:30Z, an hour late)."""
    assert card_time(tmp_path, "03/12/2026 08:30") == utc(2026, 12, 3, 7, 30)


def test_summer_time_is_two_hours_ahead(tmp_path: Path) -> None:
    assert card_time(tmp_path, "03/07/2026 08:30") == utc(2026, 7, 3, 6, 30)


def test_a_zone_written_in_the_value_wins(tmp_path: Path) -> None:
    iso = CARDS.replace('format: "%d/%m/%Y %H:%M"', "format: null")
    assert card_time(tmp_path, "2026-12-03T08:30:00+00:00", iso) == utc(2026, 12, 3, 8, 30)


def test_without_a_timezone_a_time_is_utc_as_before(tmp_path: Path) -> None:
    utc_layout = CARDS.replace("timezone: Europe/Madrid\n", "")
    assert card_time(tmp_path, "03/12/2026 08:30", utc_layout) == utc(2026, 12, 3, 8, 30)


def test_a_fields_own_timezone_outranks_the_layouts(tmp_path: Path) -> None:
    lisbon = CARDS.replace('format: "%d/%m/%Y %H:%M"}', 'format: "%d/%m/%Y %H:%M", timezone: Europe/Lisbon}')
    assert card_time(tmp_path, "03/12/2026 08:30", lisbon) == utc(2026, 12, 3, 8, 30)


def test_a_time_the_clocks_skipped_refuses_the_line_naming_the_rule(tmp_path: Path) -> None:
    """29/03/2026 02:30 never showed on a Madrid clock (02:00 -> 03:00): the export is not in Madrid time."""
    with pytest.raises(RejectedInput, match="does not exist in Europe/Madrid") as refused:
        card_time(tmp_path, "29/03/2026 02:30")
    assert refused.value.code == NONEXISTENT_TIME


def test_a_time_the_clocks_repeated_is_its_first_occurrence(tmp_path: Path) -> None:
    """25/10/2026 02:30 happened twice in Madrid (00:30Z in summer time, then 01:30Z): the first one is taken."""
    assert card_time(tmp_path, "25/10/2026 02:30") == utc(2026, 10, 25, 0, 30)


def test_a_date_occurred_at_starts_at_the_zones_midnight(tmp_path: Path) -> None:
    value = mapped_line(tmp_path, CLOSURES, "CONTRAT;FECHA_BAJA", "ES-00200001;30/11/2026")
    assert value["envelope"]["occurred_at"] == utc(2026, 11, 29, 23) and value["undated"] is False


def test_a_date_read_as_a_time_starts_at_the_fields_zones_midnight(tmp_path: Path) -> None:
    value = mapped_line(tmp_path, PRODUCTS, "CONTRATO;SUSCRIPCION;PRODUCTO;DESDE", "ES-1;S-1;TARJETA;01/07/2026")
    assert value["effective_at"] == utc(2026, 6, 30, 22)


def test_an_undated_layout_with_a_timezone_still_stamps_the_export_time(tmp_path: Path) -> None:
    undated = CARDS.replace("occurred_at: changed_at\n", "").split("  changed_at:")[0]
    value = mapped_line(tmp_path, undated, CARDS_HEADER, "4111111111111111;BLOQUEADA;fraude;03/12/2026 08:30",
                        ctx(tmp_path))
    assert value["envelope"]["occurred_at"] == EXPORTED and value["undated"] is True


def test_a_date_that_stays_a_day_is_not_moved() -> None:
    """A birth date is a day, not an instant: the zone does not touch it."""
    chosen = Layout.model_validate({
        "name": "clientes", "format": "csv", "event": "AccountOpened", "timezone": "Pacific/Kiritimati",
        "fields": {"account_number": {"column": "A"}, "account_type": {"value": "current"},
                   "birth_date": {"column": "B", "type": "date", "format": "%d/%m/%Y"}},
    })
    assert chosen.parse("ES-1,12/04/1980", {"A": 0, "B": 1})["birth_date"] == date(1980, 4, 12)


@pytest.mark.parametrize(("change", "problem"), [
    ("timezone: Europe/Madrid\n", "timezone: Europe/Madird\n"),
    ("reason: {column: MOTIVO}", "reason: {column: MOTIVO, timezone: Europe/Madrid}"),
])
def test_a_bad_timezone_refuses_the_layout(tmp_path: Path, change: str, problem: str) -> None:
    with pytest.raises(LayoutError) as refused:
        layout(tmp_path, CARDS.replace(change, problem))
    assert ("unknown time zone 'Europe/Madird' (an IANA name such as Europe/Madrid" in str(refused.value)
            or "field reason: timezone is for a date or timestamp field, this one is string" in str(refused.value))


def test_local_instant_and_day_start_at_the_edges() -> None:
    assert local_instant(datetime(2026, 12, 3, 8, 30), MADRID, "t") == utc(2026, 12, 3, 7, 30)
    # America/Santiago skips midnight on 6 September 2026: the day starts at 01:00 local, 04:00Z
    assert day_start(date(2026, 9, 6), ZoneInfo("America/Santiago")) == utc(2026, 9, 6, 4)
