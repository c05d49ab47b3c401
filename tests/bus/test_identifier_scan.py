"""The reference check's identifier scan, made fast (issue #9 point 6): it refuses every value the full scan it
replaced refused. The full scan is kept here, as it was, as the reference implementation (``full_scan``)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn, numdb
from stdnum.cn import ric
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.it import codicefiscale

from bus.identifier_scan import IdentifierScan, decimal_digits
from bus.references import REFERENCE, REFERENCE_PATH, References
from bus.identifiers.account import is_iban
from bus.identifiers.card import luhn_valid
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.national_id import is_national_id
from bus.identifiers.phone import normalise_phone

_DIGIT_RUN = re.compile(r"\d+(?:[-_/.]\d+)*")
_GROUP_SEPARATOR = re.compile(r"[-_/.]")
_IBAN_START = re.compile(r"(?=[A-Z]{2}\d{2})")


def full_scan(value: str, shape: re.Pattern[str], region: str | None, schemes: tuple[str, ...]) -> bool:
    """``References.is_reference`` before the scan was made fast (the refleak merge, a6ffe1b9): every IBAN length
    at every start, every run of groups through every test."""
    compact = re.sub(r"[^A-Z0-9]", "", value.upper())
    has_iban = any(is_iban(compact[start.start():start.start() + length])
                   for start in _IBAN_START.finditer(compact) for length in range(15, 35)
                   if start.start() + length <= len(compact))
    if not shape.fullmatch(value) or has_iban or is_national_id(value, schemes):
        return False
    for run in _DIGIT_RUN.findall(value):
        groups = _GROUP_SEPARATOR.split(run)
        if len(groups) > 12:
            return False
        for first in range(len(groups)):
            for last in range(first + 1, len(groups) + 1):
                joined = run if last - first == len(groups) else "-".join(groups[first:last])
                digits = "".join(groups[first:last])
                if len(digits) < 7:
                    continue
                if len(digits) in range(15, 20) and luhn_valid(digits) or is_national_id(digits, schemes):
                    return False
                try:
                    normalise_phone(joined, region)
                except NotAnIdentifier:
                    continue
                return False
    return True


# (phone region, national ID schemes) of the deployments compared: the default (no region, cn.ric), France, no
# region with schemes of fewer digits than a card's, and a scheme with no fewest digits declared (it.codicefiscale:
# every value goes through it).
DEPLOYMENTS = [(None, ("cn.ric",)), ("FR", ("fr.nir",)), (None, ("es.dni", "us.ssn")),
               ("ES", ("es.dni", "us.ssn", "it.codicefiscale"))]
IBAN_COUNTRIES = sorted(part for part, props in (numdb.get("iban").info(a + b)[0]
                                                 for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ") if props)
_CHARS = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(IBAN_COUNTRIES))
    structure = numdb.get("iban").info(country)[0][1]["bban"]
    bban = "".join(draw(st.text(_CHARS[kind], min_size=int(size), max_size=int(size)))
                   for size, kind in re.findall(r"(\d+)!([nac])", structure))
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    return draw(st.sampled_from([number, number.lower(), number[:-1]]))  # valid, lower case, cut short


@st.composite
def cards(draw: st.DrawFn) -> str:
    body = draw(st.text("0123456789", min_size=11, max_size=18))
    return draw(st.sampled_from([body + luhn.calc_check_digit(body), body]))


@st.composite
def phones(draw: st.DrawFn) -> str:
    subscriber = draw(st.text("0123456789", min_size=8, max_size=8))
    mobile = "0" + draw(st.sampled_from("1234567")) + subscriber
    return draw(st.sampled_from([mobile, "0033" + mobile[1:], mobile[1:], "0044" + "7" + subscriber + "1",
                                 ".".join(mobile[i:i + 2] for i in range(0, 10, 2)), "+33" + mobile[1:]]))


@st.composite
def national_ids(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2005, 12, 31)))
    serial = draw(st.text("0123456789", min_size=3, max_size=3))
    first17 = "110105" + born.strftime("%Y%m%d") + serial
    french = draw(st.sampled_from("12")) + born.strftime("%y%m") + draw(st.sampled_from(["75", "2A"])) + serial * 2
    spanish = draw(st.text("0123456789", min_size=8, max_size=8))
    return draw(st.sampled_from([
        first17 + ric.calc_check_digit(first17 + "0"), "110105" + born.strftime("%y%m%d") + serial,  # 2nd, 1st gen
        french + nir.calc_check_digits(french), spanish + dni.calc_check_digit(spanish), "536-90-4399"]))


IDENTIFIERS = st.one_of(ibans(), cards(), phones(), national_ids(), st.just("luc.p@example.org"),
                        st.just("PHONE:0612345678"))
FILLERS = st.one_of(st.text("0123456789", min_size=1, max_size=16), st.from_regex(r"[A-Za-z]{1,6}", fullmatch=True),
                    st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True),
                    st.sampled_from(["BILL-2024-04-", "ORD", "ajs-next-", "web"]))
SEPARATORS = st.sampled_from(["", "", "-", "-", "_", "/", ".", ":", " "])


@st.composite
def values(draw: st.DrawFn) -> str:
    """Up to four pieces, one an identifier (or one of its near misses: an IBAN cut short, a card failing Luhn),
    glued or joined by a separator."""
    pieces = draw(st.lists(st.one_of(IDENTIFIERS, FILLERS), max_size=3))
    pieces.insert(draw(st.integers(0, len(pieces))), draw(IDENTIFIERS))
    return "".join(piece + draw(SEPARATORS) for piece in pieces[:-1]) + pieces[-1]


@pytest.mark.parametrize(("region", "schemes"), DEPLOYMENTS)
@settings(max_examples=300)
@given(value=values())
@example(value="FR7630006000011234567890189").via("the refleak report")
@example(value="BILL-2024-04-000123").via("the bench's invoice_id")
@example(value="0048211-0612345678").via("a phone glued to a reference")
def test_the_scan_refuses_what_the_full_scan_refused_and_nothing_more(
        value: str, region: str | None, schemes: tuple[str, ...]) -> None:
    references = References((), region=region, national_id_schemes=schemes)
    for shape in (REFERENCE, REFERENCE_PATH):
        assert references.is_reference(value, shape) == full_scan(value, shape, region, schemes), (value, shape)


QATARI_BBAN = "ABCDEFGHIJKLMNOPQRSTUVWXY"  # 4!a21!c: letters only


def test_a_value_with_few_digits_is_still_scanned_for_an_iban_and_a_national_id() -> None:
    """The early exit under ``MIN_IDENTIFIER_DIGITS`` digits skips only the runs of groups: a Qatari IBAN has two
    digits (its check digits) and a codice fiscale with omocodia letters none."""
    qatar = "QA" + iban.calc_check_digits("QA00" + QATARI_BBAN) + QATARI_BBAN
    assert is_iban(qatar)
    assert IdentifierScan(None, ("cn.ric",)).finds(f"ref-{qatar}")
    omocodic = "RCCMNLUPSMUDVSV" + codicefiscale.calc_check_digit("RCCMNLUPSMUDVSV")  # RCCMNL83S18D969H
    assert IdentifierScan(None, ("it.codicefiscale",)).finds(omocodic)
    assert not IdentifierScan(None, ("cn.ric",)).finds(omocodic)


def test_a_run_of_more_than_max_groups_is_refused_whatever_its_digits() -> None:
    assert IdentifierScan(None, ("cn.ric",)).finds("1-2-3-4-5-6-7-8-9-1-2-3-4")
    assert not IdentifierScan(None, ("cn.ric",)).finds("1-2-3-4-5-6-7-8-9-1-2-3")


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(max_codepoint=127)) | st.text() | st.text("0123456789٠١२३-/ .aZ"))
def test_decimal_digits_counts_what_the_regular_expression_finds(text: str) -> None:
    assert decimal_digits(text) == len(re.findall(r"\d", text))
