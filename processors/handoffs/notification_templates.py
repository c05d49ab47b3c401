"""The text of a customer notification, in the customer's language.

A notification's ``message`` is rendered from a template per language and kind (``NotificationKind``), with the
placeholders (``PLACEHOLDERS``):

- ``{team}``: the name customers know the team by (``Team.display_name`` in the policy, per language), else its id;
- ``{deadline}``: the deadline as a customer reads it, in the time zone of the team's calendar and the message's
  language, by the Unicode CLDR's patterns (Babel): ``9 de diciembre, 9:15`` / ``December 9, 9:15 AM``; the year only
  when it is not the notification's (``readable_deadline``). A RECEIVED fills it only with a deadline still ahead
  when it is sent: a case routed after its deadline sends its RECEIVED with the breach, quoting the deadline the
  escalation gives, or none with nothing to escalate to (``notifications.first_notification``, docs/handoffs.md
  "The customer's notifications"): the kind's *undated* text then (``undated_kind``: ``RECEIVED:undated``, "We will
  get back to you as soon as we can"), where the language has one;
- ``{resolution}``: what the back office did (``HandoffResolved.resolution``), scrubbed;
- ``{request}``: what is asked of the customer (``HandoffWaitingOnCustomer.request``, ``handoffs hold --reason``),
  scrubbed.

The notification's ``parameters`` keep the machine-readable values (``deadline`` in ISO 8601, UTC; ``team`` the id)
for channels that render their own text (``processors.handoffs.notifications``).

The language is the customer's preferred one where the channel said it when the case was opened (an intake fact
under one of the spellings of the ``preferred_language`` trait: ``preferred_language``, ``language``, ``locale``;
``bus.identifiers.traits``), else the policy's ``default_language``. A tag is matched as BCP 47 lookup does
(RFC 4647 section 3.4): ``es-ES`` takes ``es-ES`` templates, else ``es``, else the default language's.

Built in: English (``en``) and Spanish (``es``). A deployment adds or replaces languages in its policy file
(``notifications.templates``, ``processors/handoffs/policy.example.yaml``); each must be a language CLDR has dates
for (nearly every written language).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from functools import lru_cache
from string import Formatter
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_datetime_format

from bus.identifiers.traits import PREFERRED_LANGUAGE, language, standard_key
from schemas.enums import NOTIFICATION_KINDS

PLACEHOLDERS = frozenset({"team", "deadline", "resolution", "request"})
# A template key ``<KIND>:undated`` is the kind's text for a notification with no deadline to quote; optional per
# language and kind (a language without one writes the kind's own text with the fallback words).
UNDATED_SUFFIX = ":undated"
# What a placeholder reads while its value is missing (no team yet, no deadline, a hold without a request), per
# primary language subtag; other languages take the English words.
FALLBACK_WORDS = {
    "en": {"team": "back-office", "deadline": "soon", "request": "we will be in touch to tell you what we need."},
    "es": {"team": "gestión", "deadline": "pronto",
           "request": "le indicaremos cuál en breve."},
}

NO_BREAK_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})

BUILT_IN_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "RECEIVED": "We have passed your request to our {team} team. We will get back to you by {deadline}.",
        "RECEIVED:undated": "We have passed your request to our {team} team. "
                            "We will get back to you as soon as we can.",
        "IN_PROGRESS": "A member of our {team} team is working on your request.",
        "WAITING_ON_CUSTOMER": "We need some information from you to continue with your request: {request}",
        "DELAYED": "Your request is taking longer than planned; it has been raised with a manager.",
        "RESOLVED": "Your request has been resolved: {resolution}",
        "CLOSED": "Your request is now closed.",
        "REOPENED": "Your request has been reopened and is being handled again.",
    },
    "es": {
        "RECEIVED": "Hemos trasladado su solicitud a nuestro equipo de {team}. Le responderemos antes del {deadline}.",
        "RECEIVED:undated": "Hemos trasladado su solicitud a nuestro equipo de {team}. "
                            "Le responderemos lo antes posible.",
        "IN_PROGRESS": "Una persona de nuestro equipo de {team} está trabajando en su solicitud.",
        "WAITING_ON_CUSTOMER": "Necesitamos información suya para continuar con su solicitud: {request}",
        "DELAYED": "Su solicitud está tardando más de lo previsto; la hemos trasladado a un responsable.",
        "RESOLVED": "Su solicitud se ha resuelto: {resolution}",
        "CLOSED": "Su solicitud se ha cerrado.",
        "REOPENED": "Su solicitud se ha reabierto y volvemos a tramitarla.",
    },
}


def language_tag(tag: str, what: str) -> str:
    """``tag`` when it is a BCP 47 language tag in RFC 5646 casing; raises ValueError naming ``what`` otherwise."""
    try:
        cased = language(tag)
    except ValueError:
        raise ValueError(f"{what} {tag!r} is not a BCP 47 language tag") from None
    if cased != tag:
        raise ValueError(f"{what} {tag!r}: write it {cased!r}")
    return tag


def undated_kind(kind: str) -> str:
    """The template key of ``kind``'s text without a deadline (``RECEIVED``: ``RECEIVED:undated``)."""
    return kind + UNDATED_SUFFIX


def template_for(by_kind: Mapping[str, str], kind: str, *, dated: bool) -> str:
    """The template of ``kind`` in one language's ``by_kind``: its undated text when there is no deadline to quote
    (``dated`` False) and the language has one, else the kind's own."""
    return by_kind[kind] if dated else by_kind.get(undated_kind(kind), by_kind[kind])


def placeholders(template: str) -> frozenset[str]:
    """The placeholder names ``template`` uses (``"{team}: {deadline}"``: team, deadline)."""
    return frozenset(name for _, name, _, _ in Formatter().parse(template) if name is not None)


@lru_cache(maxsize=64)
def cldr_locale(tag: str) -> Locale:
    """The CLDR locale (Babel) a message in language ``tag`` writes its dates in; raises ValueError when CLDR has
    none for it."""
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"notification language {tag!r} has no date formats in the Unicode CLDR (Babel)") from None


def check_templates(templates: Mapping[str, Mapping[str, str]]) -> None:
    """Raises ValueError unless each language is a BCP 47 tag in RFC 5646 casing that CLDR has dates for, has a
    template for every kind and uses no placeholder but ``PLACEHOLDERS``; an undated text (``undated_kind``) is
    optional and must not use ``{deadline}``."""
    for tag, by_kind in templates.items():
        language_tag(tag, "notification language")
        cldr_locale(tag)
        missing = sorted(kind for kind in NOTIFICATION_KINDS if kind not in by_kind)
        if missing:
            raise ValueError(f"notification templates for {tag!r} lack {', '.join(missing)}")
        for kind, template in by_kind.items():
            dated_kind = kind.removesuffix(UNDATED_SUFFIX)
            if dated_kind not in NOTIFICATION_KINDS:
                raise ValueError(f"notification templates for {tag!r}: unknown kind {kind!r}")
            names = placeholders(template)
            if dated_kind != kind and "deadline" in names:
                raise ValueError(f"notification template {tag}/{kind} is the text without a deadline: it cannot "
                                 "use {deadline}")
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


# A calendar left in UTC (the policy's default) tells its time as UTC: a customer reads a bare time as his own.
UTC_ZONE_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


def readable_deadline(deadline: datetime, zone: ZoneInfo, lang: str, sent: datetime) -> str:
    """``deadline`` (an aware datetime) as a customer reads it in language ``lang``: the local date and time in
    ``zone``, by CLDR's patterns for the language (the day and month as its ``MMMMd`` skeleton, the year too when
    it is not the year the notification is ``sent`` in, the short time, joined by its date-time pattern):
    ``9 de diciembre, 9:15`` (es), ``December 9, 9:15 AM`` (en), ``January 5, 2027, 9:15 AM``; in a UTC zone
    (``UTC_ZONE_KEYS``: a calendar that names none) the time says so, ``9 de diciembre, 9:15 UTC``."""
    local = deadline.astimezone(zone)
    day = _written_day(local.date(), lang, local.year != sent.astimezone(zone).year)
    written = _written_time(local.time(), lang) + (" UTC" if zone.key in UTC_ZONE_KEYS else "")
    return _date_time_pattern(lang).replace("{0}", written).replace("{1}", day)


# CLDR formatting (skeleton matching, month names) costs more than the rest of a notification: days and times of
# day are few, so each is formatted once per language.
@lru_cache(maxsize=4096)
def _written_day(day: date, lang: str, with_year: bool) -> str:
    at_noon = datetime.combine(day, time(12))
    return format_skeleton("yMMMMd" if with_year else "MMMMd", at_noon, locale=cldr_locale(lang))


@lru_cache(maxsize=4096)
def _written_time(clock: time, lang: str) -> str:
    # CLDR's no-break spaces ("9:15\u202fAM") as plain ones: GSM 03.38 has neither, and one would send an English
    # SMS in UCS-2 (70 characters a part instead of 160)
    return format_time(clock, "short", locale=cldr_locale(lang)).translate(NO_BREAK_SPACES)


@lru_cache(maxsize=64)
def _date_time_pattern(lang: str) -> str:
    """The language's long date-time pattern (``{1}, {0}``: date, time), as ``babel.dates.format_datetime`` uses
    it: CLDR's quotes around literal words dropped."""
    return str(get_datetime_format("long", locale=cldr_locale(lang))).replace("'", "").translate(NO_BREAK_SPACES)


def render(template: str, *, lang: str, team: str | None = None, deadline: str | None = None,
           resolution: str | None = None, request: str | None = None) -> str:
    """``template`` with its ``PLACEHOLDERS`` filled; a missing value reads as the language's ``FALLBACK_WORDS``
    (a resolution as nothing)."""
    words = FALLBACK_WORDS.get(lang.split("-")[0], FALLBACK_WORDS["en"])
    return template.format(team=team or words["team"], deadline=deadline or words["deadline"],
                           resolution=resolution or "", request=request or words["request"])
