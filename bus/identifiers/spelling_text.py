"""What a sender's documentation says of identifier values: the text an OpenAPI document (the adapters', the
screen pop's and the offers query's) gives where it describes an identifier's value.

Written from the normalisers' own rules and the deployment's settings (``IdentifierSettings``: the account and the
customer number formats), never as a fixed text: a document served by a deployment whose
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT`` is ``{"prefix": "EA-", "width": 8}`` says that a counter's
``300001`` becomes ``EA-00300001`` (the branch adapter's said the number only lost its spaces). A
document is declared once with ``VALUE_RULES`` where the rules go, and ``with_value_rules`` writes them in for the
deployment that serves it.
"""

from __future__ import annotations

from typing import Any

from bus.identifiers.account import account_spelling
from bus.identifiers.customer_number import customer_number_spelling
from bus.identifiers.settings import IdentifierSettings

# Put in a document's description text where the identifier value rules go (``with_value_rules``).
VALUE_RULES = "{identifier value rules}"


def value_description(settings: IdentifierSettings) -> str:
    """How an identifier value a sender writes is normalised under ``settings``: one text, the same in every
    document that takes identifier values."""
    return (f"Normalised where it enters. {account_spelling(settings.account_number_format)} "
            f"{customer_number_spelling(settings.customer_number_format)}")


def with_value_rules(document: dict[str, Any], settings: IdentifierSettings) -> dict[str, Any]:
    """A copy of ``document`` (JSON: dicts, lists, text) with every ``VALUE_RULES`` in its texts written out as
    ``value_description(settings)``."""
    rules = value_description(settings)

    def written(node: Any) -> Any:
        if isinstance(node, str):
            return node.replace(VALUE_RULES, rules)
        if isinstance(node, dict):
            return {key: written(value) for key, value in node.items()}
        if isinstance(node, list):
            return [written(item) for item in node]
        return node

    return {key: written(value) for key, value in document.items()}
