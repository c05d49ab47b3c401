"""The text of a customer notification, in the customer's language.

A notification's ``message`` is rendered from a template per language and kind (``NotificationKind``), with the
placeholders ``{team}``, ``{deadline}`` (ISO 8601, UTC) and ``{resolution}`` (the back office's words, as given).
The language is the customer's preferred one where the channel said it when the case was opened (an intake fact
under one of the spellings of the ``preferred_language`` trait: ``preferred_language``, ``language``, ``locale``;
``bus.identifiers.traits``), else the policy's ``default_language``. A tag is matched as BCP 47 lookup does
(RFC 4647 section 3.4): ``es-ES`` takes ``es-ES`` templates, else ``es``, else the default language's.

Built in: English (``en``) and Spanish (``es``). A deployment adds or replaces languages in its policy file
(``notifications.templates``, ``processors/handoffs/policy.example.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

from bus.identifiers.traits import PREFERRED_LANGUAGE, language, standard_key
from schemas.enums import NOTIFICATION_KINDS

PLACEHOLDERS = frozenset({"team", "deadline", "resolution"})
# {team} while the case has no team, {deadline} while it has no deadline, per primary language subtag
FALLBACK_WORDS = {"en": {"team": "back-office", "deadline": "soon"}, "es": {"team": "gestión", "deadline": "pronto"}}

BUILT_IN_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "RECEIVED": "We have passed your request to our {team} team. We will get back to you by {deadline}.",
        "IN_PROGRESS": "A member of our {team} team is working on your request.",
        "WAITING_ON_CUSTOMER": "We need some information from you to continue with your request.",
        "DELAYED": "Your request is taking longer than planned; it has been raised with a manager.",
        "RESOLVED": "Your request has been resolved: {resolution}",
        "CLOSED": "Your request is now closed.",
        "REOPENED": "Your request has been reopened and is being handled again.",
    },
    "es": {
        "RECEIVED": "Hemos trasladado su solicitud a nuestro equipo de {team}. Le responderemos antes de {deadline}.",
        "IN_PROGRESS": "Una persona de nuestro equipo de {team} está trabajando en su solicitud.",
        "WAITING_ON_CUSTOMER": "Necesitamos información suya para continuar con su solicitud.",
        "DELAYED": "Su solicitud está tardando más de lo previsto; la hemos trasladado a un responsable.",
        "RESOLVED": "Su solicitud se ha resuelto: {resolution}",
        "CLOSED": "Su solicitud se ha cerrado.",
        "REOPENED": "Su solicitud se ha reabierto y volvemos a tramitarla.",
    },
}


def check_templates(templates: Mapping[str, Mapping[str, str]]) -> None:
    """Raises ValueError unless each language is a BCP 47 tag in RFC 5646 casing, has a template for every kind
    and uses no placeholder but ``PLACEHOLDERS``."""
    for tag, by_kind in templates.items():
        try:
            cased = language(tag)
        except ValueError:
            raise ValueError(f"notification language {tag!r} is not a BCP 47 language tag") from None
        if cased != tag:
            raise ValueError(f"notification language {tag!r}: write it {cased!r}")
        missing = sorted(kind for kind in NOTIFICATION_KINDS if kind not in by_kind)
        if missing:
            raise ValueError(f"notification templates for {tag!r} lack {', '.join(missing)}")
        for kind, template in by_kind.items():
            if kind not in NOTIFICATION_KINDS:
                raise ValueError(f"notification templates for {tag!r}: unknown kind {kind!r}")
            names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
            if not names <= PLACEHOLDERS:
                raise ValueError(f"notification template {tag}/{kind} uses {sorted(names - PLACEHOLDERS)}; "
                                 f"only {sorted(PLACEHOLDERS)} exist")


def preferred_language(facts: Mapping[str, str]) -> str | None:
    """The customer's language tag among a handoff's intake facts (any spelling of the ``preferred_language``
    trait), RFC 5646 cased; None when none is given or it is not a language tag."""
    for key, value in facts.items():
        if standard_key(key) == PREFERRED_LANGUAGE:
            try:
                return language(value)
            except ValueError:
                continue
    return None


def template_language(wanted: str | None, available: Mapping[str, object], default: str) -> str:
    """The language of ``available`` to write in for ``wanted``: RFC 4647 lookup (drop subtags from the end
    until one is available), else ``default``."""
    parts = wanted.split("-") if wanted else []
    while parts:
        tag = "-".join(parts)
        if tag in available:
            return tag
        parts.pop()
    return default


def render(template: str, *, team: str | None, deadline: str | None, resolution: str | None, lang: str) -> str:
    """``template`` with its placeholders filled; a missing team or deadline reads as the language's words."""
    words = FALLBACK_WORDS.get(lang.split("-")[0], FALLBACK_WORDS["en"])
    return template.format(team=team or words["team"], deadline=deadline or words["deadline"],
                           resolution=resolution or "")
