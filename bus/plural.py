"""A count and its noun as every summary and report line says them: ``1 line``, ``0 lines``, ``3 lines``.

One rule for every command's text (import summaries, ``check-layout``, ``verify``, the operators' notes): a
summary said ``1 lines`` and ``as 1 events`` where each part wrote its own ``s``, and some forgot it."""

from __future__ import annotations

# Endings whose plural takes "es" (``address`` -> ``addresses``, ``batch`` -> ``batches``).
_ES_ENDINGS = ("s", "x", "z", "ch", "sh")


def plural(noun: str) -> str:
    """``noun``'s regular English plural: ``line`` -> ``lines``, ``e-mail address`` -> ``e-mail addresses``. Nouns
    of another form are passed as their plural to ``counted``."""
    return f"{noun}es" if noun.endswith(_ES_ENDINGS) else f"{noun}s"


def noun_for(count: int, noun: str, plural_form: str | None = None) -> str:
    """``noun`` as ``count`` of it are said, singular for exactly 1 and plural otherwise: ``on line 2``, ``on lines
    2, 3``; ``plural_form``: the plural when it is not ``plural(noun)`` (``noun_for(2, "entry", "entries")``)."""
    return noun if count == 1 else plural_form or plural(noun)


def counted(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun`` (``noun_for``): ``0 lines``, ``1 line``, ``2 lines``."""
    return f"{count} {noun_for(count, noun, plural_form)}"
