"""``check-layout``'s reading of sample lines: what the import would reject, and what it would publish without."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.legacy.cli import context
from adapters.legacy.config import LegacySettings
from adapters.legacy.layout import Layout, load_layout
from adapters.legacy.layout_check import check_lines
from adapters.legacy.mapper import BusinessRecord, map_business
from bus.config import OmnibusSettings
from tests.adapters.legacy.support import SAMPLES
from tests.bus.identifiers.support import identifier_settings

# tester29's core-banking export: one line per holder, DNIs that are digit runs (placeholders) on every line
CORE_LAYOUT = Layout.model_validate({
    "name": "core-clientes", "format": "csv", "event": "AccountOpened", "delimiter": ";",
    "key": ["account_number", "customer_id"],
    "fields": {"account_number": {"column": "IBAN"}, "iban": {"column": "IBAN"}, "customer_id": {"column": "NUM"},
               "national_id": {"column": "NIF"}, "account_type": {"column": "TIPO"},
               "birth_date": {"column": "FECHA_NAC", "type": "date", "format": "%d/%m/%Y"}},
})
CORE_HEADER = "NUM;NIF;IBAN;TIPO;FECHA_NAC\n"
IBAN = "ES91 2100 0418 4502 0005 1332"


def _settings(**identifiers: object) -> OmnibusSettings:
    return OmnibusSettings(identifiers=identifier_settings(**identifiers))


def test_tester29_f1_the_dry_run_counts_the_identifiers_the_import_would_drop(tmp_path: Path) -> None:
    """tester29 F1: ``check-layout`` said ``5 would be published, 0 rejected`` (rc 0) of an export whose import then
    dropped the national ID of every line. It now says so, in the import's words."""
    export = tmp_path / "clientes.csv"
    export.write_text(CORE_HEADER + "".join(f"C-10000{n};1234567{n}Z;{IBAN};corriente;12/04/1980\n"
                                            for n in range(1, 6)))
    settings = _settings(default_region="ES", national_id_schemes=["es.dni", "es.nie"])
    check = check_lines(export, CORE_LAYOUT, context(settings, LegacySettings(state_dir=tmp_path)))
    # the schemes checked are named (tester51 F7: "malformed" alone read as a mistyped number under any deployment's)
    assert check.summary("clientes.csv") == (
        "clientes.csv: 5 lines checked, 5 would be published as 10 events (5 AccountOpened, 5 IdentifiersObserved), "
        "0 rejected, 5 identifiers dropped (NATIONAL_ID 5 malformed under es.dni or es.nie, see "
        "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES) on lines 2, 3, 4, 5, 6")
    assert not check.rejected
    assert check.unpublished_identifiers() == ["NATIONAL_ID"]  # none of them would be published: check-layout exits 3


def test_an_identifier_dropped_on_some_lines_only_is_still_published(tmp_path: Path) -> None:
    """The exit-3 rule counts a type none of whose values would be published, not one malformed value among good
    ones (a data error the import reports, not a layout or a setting that reads every line wrong)."""
    export = tmp_path / "clientes.csv"
    export.write_text(CORE_HEADER + f"C-100001;45678912S;{IBAN};corriente;12/04/1980\n"
                      + f"C-100002;45678912A;{IBAN};corriente;12/04/1980\n")
    settings = _settings(default_region="ES", national_id_schemes=["es.dni", "es.nie"])
    check = check_lines(export, CORE_LAYOUT, context(settings, LegacySettings(state_dir=tmp_path)))
    assert "1 identifier dropped (NATIONAL_ID 1 malformed under es.dni or es.nie" in check.summary("clientes.csv")
    assert check.unpublished_identifiers() == []


def test_the_dry_run_says_what_the_import_of_the_same_sample_says(tmp_path: Path) -> None:
    """The import's summary of ``energy_accounts.csv`` (test_ingress_batch, tester15 F6: a phone on every line, an IBAN
    and a birth date dropped) is the dry run's, line numbers and traits included."""
    path = tmp_path / "a2.csv"
    shutil.copy(SAMPLES / "energy_accounts.csv", path)
    layout = load_layout(SAMPLES / "energy_accounts_layout.yaml")
    check = check_lines(path, layout, context(_settings(), LegacySettings(state_dir=tmp_path), layout.phone_region))
    imported = ("3 identifiers dropped (ACCOUNT 1 malformed, PHONE 2 malformed) on lines 2, 3, "
                "2 traits dropped (birth_date 2) on lines 2, 3")  # as test_tester15_f6 asserts of import-batch
    assert check.summary("a2.csv") == (
        f"a2.csv: 2 lines checked, 2 would be published as 4 events (2 AccountOpened, 2 IdentifiersObserved), "
        f"0 rejected, {imported}")


def test_a_line_that_would_be_rejected_counts_nothing_dropped(tmp_path: Path) -> None:
    """As the import counts only the lines it published: a rejected line's identifiers are not said dropped."""
    export = tmp_path / "clientes.csv"
    export.write_text(CORE_HEADER + f"C-100001;12345671Z;{IBAN};corriente;31/02/1980\n"
                      "C-100002;12345672Z;;corriente;12/04/1980\n")  # no account number: rejected
    settings = _settings(default_region="ES", national_id_schemes=["es.dni", "es.nie"])
    check = check_lines(export, CORE_LAYOUT, context(settings, LegacySettings(state_dir=tmp_path)))
    assert check.summary("clientes.csv") == (
        "clientes.csv: 2 lines checked, 1 would be published as 2 events (1 AccountOpened, 1 IdentifiersObserved), "
        "1 rejected, 1 identifier dropped (NATIONAL_ID 1 malformed under es.dni or es.nie, see "
        "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES) on line 2, 1 trait dropped (birth_date 1) on line 2")


def test_tester29_f8_the_dry_run_rejects_a_line_keyed_by_a_mistyped_iban(tmp_path: Path) -> None:
    """As the import does (tester29 F8): the line is printed with its reason, never its IBAN."""
    export = tmp_path / "clientes.csv"
    export.write_text(CORE_HEADER + "C-100007;50382917J;ES92 2100 0418 4502 0005 1332;corriente;12/04/1980\n"
                      f"C-100001;50382917J;{IBAN};corriente;12/04/1980\n")
    check = check_lines(export, CORE_LAYOUT, context(_settings(), LegacySettings(state_dir=tmp_path)))
    assert check.rejected == {2: "field account_number is malformed: IBAN fails its check digits (ISO 7064 mod 97-10); "
                                 "the record is keyed by it: correct the IBAN in the source"}
    assert check.summary("clientes.csv").startswith(
        "clientes.csv: 2 lines checked, 1 would be published as 2 events (1 AccountOpened, 1 IdentifiersObserved), "
        "1 rejected")


def test_tester30_f12_a_lettered_series_number_is_kept_and_the_summary_says_why_one_was_dropped(tmp_path: Path) -> None:
    """tester30 F12, its sample: of five customer numbers (a letter and six zeros, three letter-prefixed counts, a bare
    7-digit count) all five were "dropped", none said why. The zero-padded lettered counts are numbers a sequence
    issued; the number zero, the count that fills its digits and the bare count are placeholders, and the summary says
    so, and that a malformed e-mail was malformed."""
    layout = Layout.model_validate({
        "name": "clienti", "format": "csv", "event": "AccountOpened", "delimiter": ";", "key": ["account_number"],
        "fields": {"account_number": {"column": "CONTRATTO"}, "account_type": {"value": "luce"},
                   "customer_id": {"column": "COD_CLIENTE"}, "email": {"column": "EMAIL"}}})
    export = tmp_path / "clienti.csv"
    export.write_text("CONTRATTO;COD_CLIENTE;EMAIL\nCA-7001;A000000;\nCA-7002;B012345;\nCA-7003;C123456;\n"
                      "CA-7004;D012345;not-an-email\nCA-7005;1234567;\n")
    check = check_lines(export, layout, context(_settings(default_region="IT"), LegacySettings(state_dir=tmp_path)))
    assert check.summary("clienti.csv") == (
        "clienti.csv: 5 lines checked, 5 would be published as 9 events (5 AccountOpened, 4 IdentifiersObserved), "
        "0 rejected, 4 identifiers dropped "
        "(CUSTOMER_NUMBER 3 placeholder, EMAIL 1 malformed) on lines 2, 4, 5, 6")


TARJETAS = {
    "name": "tarjetas", "format": "csv", "event": "CardStatusChanged", "delimiter": ";",
    "fields": {"card_number": {"column": "PAN"}, "card_status": {"column": "ESTADO"}, "reason": {"column": "MOTIVO"}},
}
TARJETAS_FILE = ("PAN;ESTADO;MOTIVO\n378282246310005;BLOQUEO POR FRAUDE;operativa sospechosa\n"
                 "4111111111111111;duplicado;deterioro\n5555555555554444;EN REVISIÓN;\n4012888888881881;Duplicado;x\n")


def test_tester32_f12_the_dry_run_counts_the_card_status_words_it_does_not_know(tmp_path: Path) -> None:
    """tester32 F12: ``BLOQUEO POR FRAUDE`` was ``2 would be published, 0 rejected`` and UNKNOWN without a word. It is
    a known word now; words still unknown are counted by word, as written, with their lines."""
    export = tmp_path / "tarjetas.csv"
    export.write_text(TARJETAS_FILE)
    layout = Layout.model_validate(TARJETAS)
    check = check_lines(export, layout, context(_settings(), LegacySettings(state_dir=tmp_path)))
    assert check.summary("tarjetas.csv") == (
        "tarjetas.csv: 4 lines checked, 4 would be published as 4 events, 0 rejected, 3 card status words unknown "
        "(Duplicado 1, EN REVISIÓN 1, duplicado 1) on lines 3, 4, 5: published as UNKNOWN; map them in the "
        "card_status field's status_words")


def test_a_layouts_own_status_words_are_no_longer_unknown(tmp_path: Path) -> None:
    export = tmp_path / "tarjetas.csv"
    export.write_text(TARJETAS_FILE)
    own = {**TARJETAS, "fields": {**TARJETAS["fields"],  # type: ignore[dict-item]
                                  "card_status": {"column": "ESTADO", "status_words": {"DUPLICADO": "REPLACED"}}}}
    layout = Layout.model_validate(own)
    check = check_lines(export, layout, context(_settings(), LegacySettings(state_dir=tmp_path), layout=layout))
    assert check.summary("tarjetas.csv").endswith(
        "0 rejected, 1 card status word unknown (EN REVISIÓN 1) on line 4: published as UNKNOWN; map them in the "
        "card_status field's status_words")


BR_SAMPLES = SAMPLES / "br"


def _overdue(tmp_path: Path, layout: Layout) -> tuple[dict[int, str], list[dict]]:
    """check-layout's rejections of tester33's overdue bills (``br/vencidas.csv``) and the amounts it would publish."""
    export = tmp_path / "vencidas.csv"
    shutil.copy(BR_SAMPLES / "vencidas.csv", export)
    settings = _settings(default_region="BR", national_id_schemes=["br.cpf", "br.cnpj"])
    ctx = context(settings, LegacySettings(state_dir=tmp_path), layout=layout)
    check = check_lines(export, layout, ctx)
    header, *lines = export.read_text().splitlines()
    amounts = []
    for number, line in enumerate(lines, 2):
        if number not in check.rejected:
            record = BusinessRecord(layout.event, layout.parse(line, layout.columns_from(header)), str(number),
                                    datetime(2026, 12, 1, tzinfo=UTC))
            amounts.append(map_business(record, ctx).events[0].event.value["amount_due"])
    return check.rejected, amounts


def test_tester33_f5_an_undeclared_pt_br_amount_is_read_and_one_that_reads_two_ways_refused(tmp_path: Path) -> None:
    """tester33 F5: ``1.234,56`` was refused as malformed, ``1.500`` (R$ 1.500) would be published as R$ 1,50. Both
    separators read one way; ``1.500`` is refused with the fix, never guessed."""
    rejected, amounts = _overdue(tmp_path, load_layout(BR_SAMPLES / "vencidas.yaml"))
    assert rejected == {3: "field amount_due is ambiguous ('1.500' reads 1.5 with a decimal point and 1500 with a "
                           "thousands point): declare the layout's number_locale (e.g. pt_BR) or decimal_separator and "
                           "thousands_separator (docs/legacy-batch.md, Numbers)"}
    assert [amount["amount_minor"] for amount in amounts] == [123456, 31290, 123456700]


@pytest.mark.parametrize("declared", [{"number_locale": "pt_BR"}, {"thousands_separator": "."},
                                      {"decimal_separator": ",", "thousands_separator": "."}])
def test_tester33_f5_a_declared_pt_br_format_reads_r_1500(tmp_path: Path, declared: dict) -> None:
    layout = load_layout(BR_SAMPLES / "vencidas.yaml").model_copy(update=declared)
    rejected, amounts = _overdue(tmp_path, Layout.model_validate(layout.model_dump()))
    assert not rejected
    assert amounts == [{"amount_minor": minor, "currency": "BRL"} for minor in (123456, 150000, 31290, 123456700)]


def test_a_fields_own_separators_win_over_the_layouts(tmp_path: Path) -> None:
    document = load_layout(BR_SAMPLES / "vencidas.yaml").model_dump()
    document["number_locale"] = "en_US"
    document["fields"]["amount_due"].update(decimal_separator=",", thousands_separator=".")
    rejected, amounts = _overdue(tmp_path, Layout.model_validate(document))
    assert not rejected and amounts[1]["amount_minor"] == 150000


def test_tester33_f6_the_dry_run_maps_portuguese_order_statuses_and_counts_the_words_it_does_not_know(
    tmp_path: Path,
) -> None:
    """tester33 F6: ``executada`` was published UNKNOWN without a word (``1 published, 0 rejected``). It is COMPLETED
    now; ``suspensa`` (paused, or stopped for good?) is no built-in word and is counted, as card words are."""
    export = tmp_path / "ordens.csv"
    shutil.copy(BR_SAMPLES / "ordens_2026-12-01.csv", export)
    layout = load_layout(BR_SAMPLES / "ordens.yaml")
    settings = _settings(default_region="BR", national_id_schemes=["br.cpf", "br.cnpj"])
    check = check_lines(export, layout, context(settings, LegacySettings(state_dir=tmp_path), layout=layout))
    assert check.summary("ordens.csv") == (
        "ordens.csv: 5 lines checked, 5 would be published as 5 events, 0 rejected, 1 order status word unknown "
        "(suspensa 1) on line 6: published as UNKNOWN; map them in the status field's status_words")
    own = layout.model_dump()
    own["fields"]["status"]["status_words"] = {"suspensa": "IN_PROGRESS"}
    layout = Layout.model_validate(own)
    check = check_lines(export, layout, context(settings, LegacySettings(state_dir=tmp_path), layout=layout))
    assert check.summary("ordens.csv") == "ordens.csv: 5 lines checked, 5 would be published as 5 events, 0 rejected"
