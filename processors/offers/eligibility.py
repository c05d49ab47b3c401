"""Eligibility rules: which customers an offer fits, in the Common Expression Language (CEL).

A rule is one CEL expression over the customer's facts (``facts.FACT_TYPES``), e.g.
``"FIBRE" in products && service_tier in ["GOLD", "SILVER"] && contacts_7d < 5``. CEL is a
side-effect-free, non-Turing-complete language (spec: github.com/google/cel-spec), evaluated by the
``cel-python`` library: never ``eval``. A rule is compiled and checked against every fact name when the
offer is loaded, so a typo fails at ``omnibus offers publish``, not on the first customer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import celpy
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from bus.errors import OmnibusError
from processors.offers import rule_types
from processors.offers.facts import FACT_TYPES, CustomerFacts, activation, sample_activation


class RuleError(OmnibusError, ValueError):
    """The rule does not parse, names an unknown fact, compares a fact with a literal of another kind
    (``rule_types``), or does not give a boolean."""


@lru_cache(maxsize=1)
def _env() -> celpy.Environment:
    """celpy's environment, built on the first rule compiled: it builds a Lark parser (a second of CPU on a loaded
    2-core machine), and every ``omnibus`` command imports this module (the CLI registers the offers commands)
    while few compile a rule."""
    return celpy.Environment()


MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})  # their first argument binds a variable


def _free_names(ast: Any) -> set[str]:
    """Identifiers the rule reads from the activation (macro variables excluded)."""
    names: set[str] = set()
    bound: set[str] = set()
    for node in ast.iter_subtrees():
        if node.data == "ident":
            names.add(str(node.children[0]))
        elif node.data == "member_dot_arg" and str(node.children[1]) in MACROS:
            bound.add(_first_ident(node.children[2]))
    return names - bound


def _first_ident(exprlist: Any) -> str:
    return next((str(t.children[0]) for t in exprlist.children[0].iter_subtrees() if t.data == "ident"), "")


def _pointed(source: str, exc: Any) -> str:
    """Where the parser stopped, on one line: ``line 1, column 7: age > ⟨here⟩> 3`` (celpy's own text is the
    source line with a caret under it, which loses its meaning once a message is folded onto one line)."""
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    lines = source.splitlines() or [""]
    if not isinstance(line, int) or not isinstance(column, int) or not 1 <= line <= len(lines):
        return " ".join(str(exc).split()) or "unknown error"
    text = lines[line - 1]
    at = min(max(column - 1, 0), len(text))
    return f"line {line}, column {column}: {text[:at]}⟨here⟩{text[at:]}"


@lru_cache(maxsize=1024)
def _program(source: str) -> Any:
    try:
        ast = _env().compile(source)
    except celpy.CELParseError as exc:
        raise RuleError(f"eligibility does not parse: {_pointed(source, exc)}") from exc
    unknown = sorted(_free_names(ast) - set(FACT_TYPES))
    if unknown:
        known = ", ".join(sorted(FACT_TYPES))
        raise RuleError(f"eligibility names an unknown fact {unknown[0]!r}; known facts: {known}")
    odd = rule_types.mismatch(ast)
    if odd is not None:
        raise RuleError(f"eligibility compares values of different kinds: {odd}")
    return _env().program(ast)


class Rule:
    """A compiled eligibility rule; ``source`` is the CEL text as published."""

    __slots__ = ("_program", "source")

    def __init__(self, source: str) -> None:
        self.source = source.strip()
        if not self.source:
            raise RuleError("eligibility is empty (write `true` for everyone)")
        self._program = _program(self.source)
        result = self._run(sample_activation())
        if not isinstance(result, bool):
            raise RuleError(f"eligibility must give true or false, not {type(result).__name__}")

    def _run(self, facts: dict[str, Any]) -> Any:
        try:
            result = self._program.evaluate(facts)
        except celpy.CELEvalError as exc:
            raise RuleError(_eval_reason(exc)) from exc
        if isinstance(result, celpy.CELEvalError):
            raise RuleError(_eval_reason(result))
        return bool(result) if isinstance(result, celpy.celtypes.BoolType) else result

    def matches(self, facts: CustomerFacts) -> bool:
        """True when the customer's facts satisfy the rule; a rule that fails at run time matches no one.

        Cached per (rule, facts): facts are few and repeat across customers, and a CEL evaluation costs
        about 0.5 ms in cel-python."""
        return _matches(self, facts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"Rule({self.source!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def build(value: Any) -> Rule:
            if isinstance(value, Rule):
                return value
            if isinstance(value, bool):
                return cls("true" if value else "false")
            if not isinstance(value, str):
                raise ValueError("eligibility must be a CEL expression (text)")  # noqa: TRY004 - pydantic reports ValueError
            return cls(value)

        return core_schema.no_info_plain_validator_function(
            build, serialization=core_schema.plain_serializer_function_ser_schema(lambda rule: rule.source),
        )


@lru_cache(maxsize=65536)
def _matches(rule: Rule, facts: CustomerFacts) -> bool:
    try:
        return rule._run(activation(facts)) is True  # noqa: SLF001 - the cache's own rule
    except RuleError:
        return False


def _eval_reason(exc: Any) -> str:
    args = getattr(exc, "args", ())
    text = str(args[0]) if args else str(exc)
    if "undeclared reference" in text:
        name = text.split("'")[1] if "'" in text else "?"
        return f"eligibility names an unknown fact {name!r}; known facts: {', '.join(sorted(FACT_TYPES))}"
    return f"eligibility cannot be evaluated: {text[:200]}"
