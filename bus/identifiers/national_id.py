"""NATIONAL_ID: validated by the deployment's schemes with python-stdnum, then kept only as a token.

``national_id_schemes`` names python-stdnum modules (``cn.ric``, ``fr.nir``, ``es.dni``,
``it.codicefiscale``, ``us.ssn``, ``br.cpf``, ``in_.aadhaar``...) or ``gb.nino``, the UK National Insurance number,
which python-stdnum lacks (``bus.identifiers.gb_nino``, the same interface); the first scheme under which the value
is valid wins and gives its canonical (``compact``) form. Check digits, lengths and embedded dates are
stdnum's rules (each module cites its source). Additions of ours, all documented here:

- ``cn.ric``: a 15-digit first-generation resident ID (YYMMDD, no check character; GB 11643-1989) is
  upgraded to its 18-character form (century 19, ISO 7064 MOD 11-2 check character), as before;
- a number whose embedded birth date is before 1900 or in the future is refused;
- ``PRINTED_GROUPING``: a scheme whose numbers are printed with their digits grouped by thousands where
  python-stdnum's ``compact`` does not strip the group separator (``es.dni``: ``48.765.431-A``) has that separator
  removed between digit groups only, before ``compact``; any other sign the scheme's ``compact`` keeps is refused.
  Every other separator accepted is the one the scheme's ``compact`` strips.

The canonical form is turned into a token by ``bus.identifiers.tokens``; the scheme is part of the token
input for every scheme except ``cn.ric`` (the only scheme before schemes were configurable: its tokens
stay as they were).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from types import ModuleType

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from bus.errors import OmnibusError
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.schemes import scheme_module
from bus.identifiers.settings import ENV_PREFIX

LEGACY_SCHEME = "cn.ric"
SCHEMES_VARIABLE = f"{ENV_PREFIX}NATIONAL_ID_SCHEMES"
# The reason code of a national ID refused while no scheme is configured (neither the schemes nor a default region
# set, so only the default cn.ric was tried): apart from one malformed under a scheme the deployment chose.
NO_SCHEME_CODE = "national-id-no-scheme"
# How the reason of a number refused under the schemes the deployment chose names them (``schemes_checked``).
_CHECKED = f"{SCHEMES_VARIABLE} names the schemes checked (now "
_HINTS = {"cn.ric": "18 characters: 17 digits and a digit or X"}


def _module(scheme: str) -> ModuleType:
    return scheme_module(scheme)


def national_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a Chinese resident ID (stdnum ``cn.ric``)."""
    from stdnum.cn import ric

    return ric.calc_check_digit(first17 + "0")


def _upgrade_first_generation(text: str) -> str:
    compact = re.sub(r"[\s-]", "", text).upper()
    if re.fullmatch(r"\d{15}", compact):
        upgraded = compact[:6] + "19" + compact[6:]
        return upgraded + national_id_check_char(upgraded)
    return compact


# A scheme -> the separator its numbers are printed with between thousands groups that python-stdnum's ``compact``
# keeps: the Spanish DNI is written 48.765.431-A in notarial, banking and administrative documents (python-stdnum's
# es.dni strips only spaces and hyphens). Removed only between a digit and exactly three digits that end the number's
# digits, so 4876.5431-A and 48765431.A are still refused.
PRINTED_GROUPING = {"es.dni": "."}


def _written(raw: str, scheme: str) -> str:
    """``raw`` as the scheme's ``compact`` takes it: a first-generation cn.ric upgraded, ``PRINTED_GROUPING``
    removed."""
    if scheme == LEGACY_SCHEME:
        return _upgrade_first_generation(raw)
    separator = PRINTED_GROUPING.get(scheme)
    if separator is None:
        return raw
    return re.sub(rf"(?<=\d){re.escape(separator)}(?=\d{{3}}(?!\d))", "", raw)


def _birth_date(module: ModuleType, number: str) -> date | None:
    getter = getattr(module, "get_birth_date", None)
    if getter is None:
        return None
    try:
        born = getter(number)
    except (ValidationError, ValueError, IndexError):
        return None
    return born if isinstance(born, date) else None


def _date_unreadable(module: ModuleType, number: str) -> bool:
    getter = getattr(module, "get_birth_date", None)
    if getter is None:
        return False
    try:
        getter(number)
    except InvalidChecksum:  # schemes such as be.nn read the century from the check digits
        return False
    except (ValidationError, ValueError, IndexError):
        return True
    return False


def _reason(scheme: str, module: ModuleType, number: str, error: ValidationError) -> NotAnIdentifier:
    if isinstance(error, InvalidLength):
        hint = _HINTS.get(scheme, "see the scheme's format")
        return NotAnIdentifier("national-id-length", f"national ID has the wrong length for {scheme} ({hint})")
    if isinstance(error, InvalidFormat):
        return NotAnIdentifier("national-id-format", f"national ID has characters {scheme} does not allow")
    # A mistyped date also breaks the check character: name the date, the more useful of the two.
    if _date_unreadable(module, number):
        return NotAnIdentifier("national-id-component", f"national ID date of birth is not a date ({scheme})")
    if isinstance(error, InvalidChecksum):
        return NotAnIdentifier("national-id-checksum", f"national ID check character does not match ({scheme})")
    if isinstance(error, InvalidComponent):
        return NotAnIdentifier("national-id-component", f"national ID region or another part is not valid ({scheme})")
    return NotAnIdentifier("national-id-invalid", f"not a valid national ID for {scheme}")


# How many digits a number valid under a scheme holds, from the scheme's ``validate`` (python-stdnum) and
# ``_upgrade_first_generation``: cn.ric 18 characters, 17 digits and a digit or X, or 15 digits (first generation);
# fr.nir 15 characters, 14 digits with Corsica's 2A/2B; es.dni 8 digits and a letter; us.ssn 9, br.cpf 11,
# in_.aadhaar 12 digits, gb.nino 6 (ours: ``bus.identifiers.gb_nino``). Each scheme's ``compact`` deletes separators
# only, never a digit, so the count holds for the text as written, counted with ``str.isdigit`` (python-stdnum's
# ``clean`` maps only such characters to a digit). A scheme not listed may hold any number of digits
# (it.codicefiscale's omocodia letters: none). Checked by tests/bus/identifiers/test_national_id.py.
DIGIT_COUNTS = {"cn.ric": range(15, 19), "fr.nir": range(14, 16), "es.dni": range(8, 9), "us.ssn": range(9, 10),
                "br.cpf": range(11, 12), "in_.aadhaar": range(12, 13), "gb.nino": range(6, 7)}


def digit_counts(schemes: Sequence[str]) -> frozenset[int] | None:
    """How many digits (``str.isdigit`` characters) a text that ``is_national_id(text, schemes)`` accepts may hold:
    the union of ``DIGIT_COUNTS`` over ``schemes``; None (any count) when one is not listed. A scan of many
    candidates skips the others (``bus.identifier_scan``)."""
    if any(scheme not in DIGIT_COUNTS for scheme in schemes):
        return None
    return frozenset(count for scheme in schemes for count in DIGIT_COUNTS[scheme])


_TRIPPED = (ValueError, IndexError, KeyError, TypeError)  # what a module raises on input it did not expect


class _BornOutOfRange(OmnibusError):
    """A number whose embedded birth date is before 1900 or in the future (refused: see the module docstring); bad
    input, not retriable."""

    retriable = False


def _valid(raw: str, scheme: str) -> str:
    """``raw``'s canonical form under ``scheme``; raises stdnum's ``ValidationError``, ``_TRIPPED`` or
    ``_BornOutOfRange``."""
    module = _module(scheme)
    number = module.compact(_written(raw, scheme))
    module.validate(number)
    born = _birth_date(module, number)
    if born is not None and (born.year < 1900 or born > date.today()):
        raise _BornOutOfRange
    return number


def is_national_id(raw: str, schemes: Sequence[str]) -> bool:
    """Whether ``canonical_national_id(raw, schemes)`` accepts ``raw``, without building a refusal's reason (a few
    µs where ``canonical_national_id`` refuses in 20 to 90): for a scan of many candidates
    (``bus.references``)."""
    for scheme in schemes:
        try:
            _valid(raw, scheme)
        except (ValidationError, _BornOutOfRange, *_TRIPPED):
            continue
        return True
    return False


def canonical_national_id(raw: str, schemes: Sequence[str] = (LEGACY_SCHEME,),
                          configured: bool = True) -> tuple[str, str]:
    """``(scheme, canonical form)`` of the first scheme ``raw`` is valid under.

    Raises ``NotAnIdentifier`` with the first scheme's reason (check character, length, date of
    birth, region...), never echoing the number; ``configured`` False (the schemes are the default, the deployment
    set none): code ``NO_SCHEME_CODE`` whatever the reason, the reason naming the setting to set.
    """
    first_error: NotAnIdentifier | None = None
    for scheme in schemes:
        try:
            return scheme, _valid(raw, scheme)
        except ValidationError as error:
            module = _module(scheme)
            first_error = first_error or _reason(scheme, module, module.compact(_written(raw, scheme)), error)
        except _TRIPPED:
            first_error = first_error or NotAnIdentifier("national-id-invalid", f"not a valid national ID for {scheme}")
        except _BornOutOfRange:
            first_error = first_error or NotAnIdentifier(
                "national-id-component", f"national ID date of birth is out of range ({scheme})")
    assert first_error is not None  # schemes is never empty (IdentifierSettings requires one)
    if not configured:  # a Spanish DNI refused "malformed" by the default cn.ric sent a new user nowhere
        raise NotAnIdentifier(NO_SCHEME_CODE, f"{first_error}; no national ID scheme is configured: set "
                                              f"{SCHEMES_VARIABLE} (e.g. [\"es.dni\", \"es.nie\"]) or the "
                                              f"default region")
    # Say which setting chose the schemes: a French NIR refused "(cn.ric)" left a new user guessing (finding #7).
    raise NotAnIdentifier(first_error.code, f"{first_error}; {_CHECKED}{', '.join(schemes)})")


def schemes_checked(reason: str) -> list[str]:
    """The schemes a national ID refused under the deployment's schemes was checked against, as its reason
    (``canonical_national_id``'s) names them: ``["es.dni", "es.nie"]``; ``[]`` for any other reason (a file summary
    names them: a Spanish DNI under a French deployment's fr.nir read "malformed", as a mistyped number)."""
    before, marker, named = reason.rpartition(_CHECKED)
    if not marker or not named.endswith(")"):
        return []
    return [scheme.strip() for scheme in named[:-1].split(",") if scheme.strip()]
