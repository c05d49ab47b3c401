"""tester32 F13: a national ID is accepted as its scheme's documents print it, and no other sign is.

The reported sample: a DNI written with thousands dots (``48.765.431-A``) was refused while ``48765431-A`` was
accepted. The kind, for every scheme a region defaults to (``NATIONAL_ID_SCHEMES_BY_REGION``): each of the scheme's
own printed examples (the numbers of python-stdnum's documented examples and its ``format`` of them) is accepted when
its compact form is, and a sign the scheme's ``compact`` does not strip, put between its digits, is refused.
"""

from __future__ import annotations

import re

import pytest

from bus.identifiers import Identifier, Rejected
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.national_id import LEGACY_SCHEME, PRINTED_GROUPING, canonical_national_id, is_national_id
from bus.identifiers.schemes import scheme_module
from bus.identifiers.settings import NATIONAL_ID_SCHEMES_BY_REGION
from tests.bus.identifiers.test_national_id import normaliser

SCHEMES = sorted({scheme for schemes in NATIONAL_ID_SCHEMES_BY_REGION.values() for scheme in schemes})
_EXAMPLE = re.compile(r">>> \w+\('([^']+)'")  # a number a docstring example passes to one of the module's functions


# Valid numbers of the schemes whose documented examples all fall to our own rules (a birth date before 1900 or to
# come): their check digits by the modules' ``calc_check_digit``; gb.nino is ours (HMRC NIM39110 prints it spaced).
MORE_EXAMPLES = {"bg.egn": ["850312 123 0"], "dk.cpr": ["120385-1234"], "kr.rrn": ["850312-1123456"],
                 "gb.nino": ["AB 12 34 56 C"]}


def printed_examples(scheme: str) -> list[str]:
    """The numbers of the scheme's documented examples as written, and as its ``format`` prints them (when it has one);
    the callers keep the valid ones."""
    module = scheme_module(scheme)
    written = _EXAMPLE.findall(module.__doc__ or "") + MORE_EXAMPLES.get(scheme, [])
    printer = getattr(module, "format", None)
    return written + ([printer(raw) for raw in written] if printer else [])


def accepted(text: str, scheme: str) -> bool:
    return is_national_id(text, (scheme,))


@pytest.mark.parametrize("written", ["48.765.431-A", "48.765.431 A", "48.765.431A", "48.765.431-a"])
def test_the_reported_dni_with_thousands_dots_is_the_same_customer(written: str) -> None:
    spain = normaliser("es.dni", "es.nie")
    plain = spain.normalise("NATIONAL_ID", "48765431-A")
    assert isinstance(plain, Identifier) and spain.normalise("NATIONAL_ID", written) == plain


@pytest.mark.parametrize("written", ["4876.5431-A", "48765431.A", "48.765.431.A", "48..765.431-A", "48,765,431-A",
                                     "48/765/431-A", "48.765.431-A+", "48_765_431-A"])
def test_a_dni_with_a_sign_its_documents_do_not_print_is_still_refused(written: str) -> None:
    refused = normaliser("es.dni").normalise("NATIONAL_ID", written)
    assert isinstance(refused, Rejected) and refused.code == "national-id-format"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_accepts_its_own_printed_examples(scheme: str) -> None:
    examples = [text for text in printed_examples(scheme) if accepted(scheme_module(scheme).compact(text), scheme)]
    assert examples, "no valid example of the scheme to check"
    assert all(accepted(text, scheme) for text in examples), [t for t in examples if not accepted(t, scheme)]


SIGNS = ".,/-_+*:; "
OWN_STRIPPED = {LEGACY_SCHEME: " -"}  # a first-generation resident ID's spaces and hyphens (the module docstring)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_sign_the_scheme_does_not_strip_is_refused_between_its_digits(scheme: str) -> None:
    module = scheme_module(scheme)
    number = next(module.compact(text) for text in printed_examples(scheme) if accepted(module.compact(text), scheme))
    for sign in SIGNS:
        spelt = f"{number[:2]}{sign}{number[2:]}"
        if module.compact(spelt) == number or sign in OWN_STRIPPED.get(scheme, "") + PRINTED_GROUPING.get(scheme, ""):
            continue  # a separator of the scheme's
        assert not accepted(spelt, scheme), (scheme, sign)
        with pytest.raises(NotAnIdentifier):
            canonical_national_id(spelt, (scheme,))
