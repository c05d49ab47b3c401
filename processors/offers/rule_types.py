"""The comparisons of an eligibility rule whose two sides can never be equal or ordered: a fact against a literal of
another type (``days_overdue == "zero"``, ``service_tier in ["GOLD", 1]``, ``products == "FIBRE"``).

cel-python evaluates such a comparison without an error (CEL's heterogeneous equality is false: cel-spec
``langdef.md``, "Equality"), so evaluating the rule on sample facts (``eligibility.Rule``) does not find it and the
offer would reach no one. ``mismatch`` reads the compiled rule (cel-python's Lark tree) and names the first one, so
``omnibus offers publish --check`` refuses it. Only a fact compared with a literal (or a list of literals) is judged:
a fact against a fact or an expression is left to that evaluation. A number fact against ``1.0`` or ``1u`` is named
too: cel-python has no overload for an int and a double or uint, and its own message names its classes.
"""

from __future__ import annotations

from typing import Any

from processors.offers.facts import FACT_TYPES

COMPARISONS = frozenset({"relation_eq", "relation_ne", "relation_lt", "relation_le", "relation_gt", "relation_ge",
                         "relation_in"})
# cel-python's literal token -> the kind of value it is, as a rule's author reads it
# (cel-python compares an int only with an int: ``1u`` and ``1.0`` have no overload with a number fact)
LITERAL_KINDS = {"STRING_LIT": "text", "MLSTRING_LIT": "text", "INT_LIT": "a whole number",
                 "UINT_LIT": "an unsigned number (write it without the u)", "FLOAT_LIT": "a decimal number (CEL "
                 "compares a whole number only with a whole number)", "BOOL_LIT": "true or false", "NULL_LIT": "null",
                 "BYTES_LIT": "bytes"}
FACT_KINDS = {str: "text", int: "a whole number", list: "a list of text"}


def _only_child(tree: Any) -> Any:
    """The single node a chain of one-child nodes ends in (``addition → … → primary → ident``)."""
    while hasattr(tree, "children") and len(tree.children) == 1 and tree.data not in ("ident", "literal", "list_lit"):
        tree = tree.children[0]
    return tree


def _operand(tree: Any) -> tuple[str, Any] | None:
    """``("fact", name)``, ``("literal", (kind, text))``, ``("list", [(kind, text), ...])`` of literals, else None."""
    node = _only_child(tree)
    if getattr(node, "data", None) == "ident" and str(node.children[0]) in FACT_TYPES:
        return "fact", str(node.children[0])
    if getattr(node, "data", None) == "literal":
        token = node.children[0]
        return "literal", (LITERAL_KINDS.get(token.type, token.type), str(token))
    if getattr(node, "data", None) == "list_lit":
        items = [_operand(expr) for expr in (node.children[0].children if node.children else [])]
        if all(item is not None and item[0] == "literal" for item in items):
            return "list", [item[1] for item in items if item is not None]
    return None


def _element_kind(fact: str) -> str:
    return "text" if FACT_TYPES[fact] is list else FACT_KINDS[FACT_TYPES[fact]]


def mismatch(ast: Any) -> str | None:
    """The first comparison of a fact with a literal of another kind in the compiled rule ``ast``, as a sentence
    (``days_overdue is a number, "zero" is text: never equal``); None when there is none."""
    for node in ast.iter_subtrees_topdown():
        if node.data != "relation" or len(node.children) != 2 or getattr(node.children[0], "data", None) \
                not in COMPARISONS:
            continue
        operator = node.children[0].data
        left, right = _operand(node.children[0].children[0]), _operand(node.children[1])
        if left is None or right is None:
            continue
        if operator == "relation_in":
            if left[0] == "fact" and right[0] == "list":
                wanted = FACT_KINDS[FACT_TYPES[left[1]]]
                odd = next((text for kind, text in right[1] if kind != wanted), None)
                if odd is not None:
                    return f"{left[1]} is {wanted}, {odd} in its list is not: it never matches"
            elif left[0] == "literal" and right[0] == "fact":
                kind, text = left[1]
                if FACT_TYPES[right[1]] is not list:
                    return f"{right[1]} is {FACT_KINDS[FACT_TYPES[right[1]]]}, not a list: `{text} in {right[1]}` " \
                           "cannot be evaluated"
                if kind != "text":
                    return f"{right[1]} is a list of text, {text} is {kind}: it is never in it"
            continue
        sides = [side for side in (left, right) if side[0] == "fact"]
        literal = next((side for side in (left, right) if side[0] == "literal"), None)
        if len(sides) != 1 or literal is None:
            continue
        fact, (kind, text) = sides[0][1], literal[1]
        wanted = FACT_KINDS[FACT_TYPES[fact]]
        if kind != wanted:
            never = "never equal" if operator in ("relation_eq", "relation_ne") else "not comparable"
            return f"{fact} is {wanted}, {text} is {kind}: {never}"
    return None
