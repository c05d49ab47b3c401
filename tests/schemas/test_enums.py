"""Enum lists come from the contract; no module keeps its own copy of a whole enum."""

import ast
import json
from pathlib import Path

import pytest

from schemas import enums

REPO = Path(__file__).resolve().parents[2]
AVSC_ENUMS = {
    f"{raw['namespace']}.{raw['name']}": raw["symbols"]
    for raw in (json.loads(path.read_text()) for path in sorted((REPO / "schemas").rglob("*.avsc")))
    if raw["type"] == "enum"
}


def test_constants_are_the_contracts_known_symbols() -> None:
    assert enums.IDENTIFIER_TYPES == frozenset(AVSC_ENUMS["omnibus.common.IdentifierType"]) - {"UNKNOWN"}
    assert enums.CHANNELS == frozenset(AVSC_ENUMS["omnibus.common.Channel"]) - {"UNKNOWN"}
    assert "UNKNOWN" not in enums.ORDER_STATUSES and "SHIPPED" in enums.ORDER_STATUSES
    for fullname, listed in AVSC_ENUMS.items():
        assert enums.symbols(fullname) == tuple(listed)


def test_a_record_is_not_an_enum() -> None:
    with pytest.raises(Exception, match="not an enum"):
        enums.symbols("omnibus.common.Envelope")


def _string_collections(tree: ast.AST) -> list[tuple[int, frozenset[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)) and len(node.elts) >= 3:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(values) == len(node.elts):
                found.append((node.lineno, frozenset(values)))
    return found


def test_no_module_copies_an_enum_of_the_contract() -> None:
    whole_enums = {fullname: frozenset(listed) - {"UNKNOWN"} for fullname, listed in AVSC_ENUMS.items()}
    copies = []
    for package in ("adapters", "processors", "bus", "demo", "schemas"):
        for path in (REPO / package).rglob("*.py"):
            for line, values in _string_collections(ast.parse(path.read_text(), str(path))):
                for fullname, symbols in whole_enums.items():
                    if values - {"UNKNOWN"} == symbols:
                        copies.append(f"{path.relative_to(REPO)}:{line} copies {fullname}")
    assert copies == []
