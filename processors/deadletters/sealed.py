"""``redrive`` of input refused at an adapter's HTTP ingress or by the legacy adapter's outbox relay or pollers: its
sealed body (or row) opened, corrected, mapped again.

A sender that never sends again (Amazon Connect's Firehose delivery, a Segment SDK after a 400, a counter agent that
marked the event rejected) leaves a refused record only in its dead letter (a CTR refused for a
``DisconnectTimestamp`` without an offset was lost for good). With ``OMNIBUS_DEAD_LETTERS__SEAL_KEY`` set, the adapter
keeps the body as it came, sealed (``bus.dead_letter.SEALED_BODY_HEADER``, ``bus.sealing``): no identifier in clear on
the dead-letter topic. ``redrive ID --set FIELD=VALUE --by NAME --why TEXT`` opens it with the same key, sets the
corrected fields (``corrected``), and the adapter that refused it maps it again with its own mapper (a ``Resubmit``
per component, composed in ``omnibus.resubmits``: the web hall, the call center's CTR, Asterisk and TaskRouter
paths, the branch counter), from the body and the context its dead letter names (the site, the source, the terminal
and branch). A row the legacy adapter's outbox relay or a poller refused is kept sealed the same way (it too was read
from no topic) and mapped again by ``adapters.legacy.redrive`` with the adapter's current settings. The events are
published with acks=all and the headers ``omnibus-redriven-from``, ``omnibus-dead-letter-id``,
``omnibus-redriven-by`` and ``omnibus-redrive-reason``. Once, as ``redrive``: the topics
it publishes on are read from the dead letter's ``failed_at`` for a record carrying its id; past that, the same
body maps to the same event ids, which the processors drop as copies.

Refused, with the reason: a dead letter without a sealed body (refused before the key was set, or by a deployment
without it: the sender must send it again), with a body sealed under another key (its key id named), when this
deployment has no key, a component with no ``Resubmit``, a correction that does not apply (``--set`` on a body that is
neither a JSON object nor a form, or through a field that is no object), and a body the adapter refuses again (the
reason given: correct it with ``--set``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bus.config import OmnibusSettings
from bus.dead_letter import (
    FILE_HEADER,
    REFUSED_PART_CONTEXT,
    SEAL_KEY_ID_HEADER,
    SEALED_BODY_HEADER,
    part_words,
    refused_part,
)
from bus.dead_letter_clear import CLEAR_COPY_HEADER
from bus.errors import OmnibusError
from bus.plural import counted
from bus.producer import Outgoing
from bus.sealing import SEAL_KEY_VARIABLE, Sealer, SealError
from processors.deadletters import DeadLetter
from processors.deadletters.new_id import Operator, Ready, publish_once
from processors.deadletters.redrive import LEGACY_COMPONENT, OPEN_CASE_HINT, Outcome, ingress_refusal

# The refusal codes of input refused only for an id it reuses (``id_conflict``, ``request_id_conflict``): ``redrive
# --new-id`` publishes it under a new id; re-submitted under its own, it would be refused again.
ID_CONFLICT = "id_conflict"


class NotResubmitted(OmnibusError):
    """The adapter cannot map the body again (refused again, or its context is missing); the message says why."""


@dataclass(frozen=True, slots=True)
class Resubmit:
    """How one adapter maps a refused body again: ``resubmit(body, headers, received_at, published)``, the body as it
    came (with the corrections), the dead letter's headers (name: text; the context the ingress noted), when it was
    received (the dead letter's ``failed_at``) and, for a dead letter about a refused part, the body as it was
    published without that part (before the corrections: a mapper whose event ids derive from the content keeps the
    ids it gave then), else None -> the events to publish; raises ``NotResubmitted``."""

    resubmit: Callable[[bytes, Mapping[str, str], datetime, bytes | None], tuple[Outgoing, ...]]


def sealed_body(letter: DeadLetter) -> tuple[bytes, str] | None:
    """The sealed body of ``letter`` and the id of the key that sealed it, or None (none was kept)."""
    found = {h["key"]: bytes(h["value"]) for h in letter.fields.get("headers") or ()
             if h["key"] in (SEALED_BODY_HEADER, SEAL_KEY_ID_HEADER) and h["value"] is not None}
    if SEALED_BODY_HEADER not in found:
        return None
    return found[SEALED_BODY_HEADER], found.get(SEAL_KEY_ID_HEADER, b"").decode("ascii", "replace")


def value_as_sent(letter: DeadLetter, sealer: Sealer | None) -> bytes:
    """The value ``letter`` was refused with, as it came: its sealed body opened with ``sealer``; a dead letter of an
    older release, which kept no clear copy (``bus.dead_letter_clear.CLEAR_COPY_HEADER``) but the value as sent (its
    national IDs and cards as tokens), that value. Raises ``NotResubmitted`` when its only copy is the clear one
    (no identifier readable in it: nothing to map again), or when the sealed body does not open here."""
    sealed = sealed_body(letter)
    headers = letter.fields.get("headers") or ()
    if sealed is None:
        if any(h["key"] == CLEAR_COPY_HEADER for h in headers) and FILE_HEADER in letter.location:
            raise NotResubmitted(f"a line a file import refused is never kept sealed: read it as it came in its file "
                                 f"({letter.source}), correct it there and import the file again")
        if any(h["key"] == CLEAR_COPY_HEADER for h in headers):
            raise NotResubmitted(f"its body was not kept sealed (refused where {SEAL_KEY_VARIABLE} was not set) and "
                                 "its dead letter holds it with its identifiers masked: the sender must send it again")
        return bytes(letter.fields["value"])
    if sealer is None:
        raise NotResubmitted(f"its body is sealed, and {SEAL_KEY_VARIABLE} is not set here: set it to the adapters' "
                             "key to re-drive it")
    try:
        return sealer.open(sealed[0], str(letter.fields["source_component"]))
    except SealError as exc:
        raise NotResubmitted(str(exc)) from exc


def revealed(letter: DeadLetter, sealer: Sealer | None) -> tuple[DeadLetter, str | None]:
    """``letter`` with its value as it came, for ``show --reveal``, and None; or ``letter`` as it is and why its value
    is not the one sent (its clear copy, ``bus.dead_letter_clear``, when no sealed body opens here)."""
    try:
        value = value_as_sent(letter, sealer)
    except NotResubmitted as exc:
        return letter, f"shown as its clear copy (identifiers masked): {exc}"
    if sealed_body(letter) is None:
        return letter, None
    return dataclasses.replace(letter, fields={**letter.fields, "value": value, "value_truncated": False}), None


def refusal(letter: DeadLetter, sealer: Sealer | None, resubmits: Mapping[str, Resubmit]) -> str | None:
    """Why ``letter`` (refused at an HTTP ingress) cannot be re-submitted, or None."""
    component = str(letter.fields["source_component"])
    sealed = sealed_body(letter)
    if sealed is None:
        if str(letter.fields["source_component"]).startswith(LEGACY_COMPONENT):
            return ingress_refusal(letter)
        return (f"{ingress_refusal(letter)}; its body was not kept sealed (refused where {SEAL_KEY_VARIABLE} was not "
                f"set): there is no body to re-submit; {OPEN_CASE_HINT}")
    if str(letter.fields["error_type"]).endswith(ID_CONFLICT):
        return f"{ingress_refusal(letter)}: refused only for its id, its content needs no correction"
    if sealer is None:
        return (f"its body is sealed, and {SEAL_KEY_VARIABLE} is not set here: set it to the adapters' key to "
                "re-drive it")
    if sealed[1] and sealed[1] != sealer.key_id:
        return (f"its body was sealed under another key (key id {sealed[1]}; this {SEAL_KEY_VARIABLE}: "
                f"{sealer.key_id}): re-drive it where the key it was sealed with is set")
    if component not in resubmits:
        return f"{component} has no re-submission (re-submitted: {', '.join(sorted(resubmits))})"
    return None


class _Removed:
    """The value of a correction that removes its field (``--unset FIELD``)."""

    def __repr__(self) -> str:
        return "REMOVED"


REMOVED: Any = _Removed()


def parse_corrections(texts: Sequence[str], removed: Sequence[str] = ()) -> dict[str, Any]:
    """``--set FIELD=VALUE`` options -> {dotted field path: value}: a VALUE that reads as JSON (a number, true, null, a
    quoted string, an object) is taken as such, anything else as text (``2026-12-03T09:44:00Z``); and ``--unset
    FIELD`` options (``removed``) -> {path: ``REMOVED``}: the field is taken out (a counter event's undeclared
    ``customer.pesel``, refused ``unknown_field``). Raises ``ValueError`` naming the option without ``=`` or with no
    field, or a field both set and removed."""
    out: dict[str, Any] = {}
    for path in removed:
        if not path.strip() or "=" in path:
            raise ValueError(f"--unset {path!r}: expected FIELD (a dotted path, e.g. customer.pesel), no value")
        out[path.strip()] = REMOVED
    for text in texts:
        path, sep, value = text.partition("=")
        if not sep or not path.strip():
            raise ValueError(f"--set {text!r}: expected FIELD=VALUE (FIELD may be a dotted path, e.g. "
                             "CustomerEndpoint.Address)")
        if out.get(path.strip()) is REMOVED:
            raise ValueError(f"--set {path.strip()} and --unset {path.strip()}: one or the other")
        try:
            out[path.strip()] = json.loads(value)
        except ValueError:
            out[path.strip()] = value
    return out


def corrected(body: bytes, corrections: Mapping[str, Any]) -> bytes:
    """``body`` with each dotted field path set to its value (taken out for ``REMOVED``); ``body`` as it is without
    corrections.

    A JSON object: each path set in it (missing objects on the way created), or taken out (it must be there). A form
    (``application/x-www-form-urlencoded``, WHATWG URL Standard: a TaskRouter callback): the path's first
    name is a form field, the rest a path inside that field's JSON object (``TaskAttributes.from``); a value that is
    no text is written as JSON.
    Raises ``NotResubmitted`` when the body is neither, a path goes through a value that is no object, or a field to
    take out is not there."""
    if not corrections:
        return body
    try:
        document = json.loads(body)
    except ValueError:
        form = _form(body)
        if form is None:
            raise NotResubmitted("--set needs a JSON or form body; this one is neither (a CDR line?): re-drive it "
                                 f"without --set, or {OPEN_CASE_HINT}") from None
        return _corrected_form(form, corrections)
    if not isinstance(document, dict):
        raise NotResubmitted("--set needs a JSON object; this body is not one (an array of records?)")
    for path, value in corrections.items():
        _set(document, path, path.split("."), value)
    return json.dumps(document, ensure_ascii=False).encode()


def _set(document: dict[str, Any], path: str, names: Sequence[str], value: Any) -> None:
    option = "--unset" if value is REMOVED else "--set"
    target = document
    for depth, name in enumerate(names[:-1]):
        target = target.get(name, {}) if value is REMOVED else target.setdefault(name, {})
        if not isinstance(target, dict):
            raise NotResubmitted(f"{option} {path}: {'.'.join(names[:depth + 1])} is no object")
    if value is not REMOVED:
        target[names[-1]] = value
    elif target.pop(names[-1], REMOVED) is REMOVED:
        raise NotResubmitted(f"--unset {path}: the body has no such field")


def _form(body: bytes) -> list[tuple[str, str]] | None:
    """``body``'s fields if it is a form (``name=value&...``, UTF-8), else None."""
    try:
        text = body.decode("utf-8")
        fields = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    return fields if fields and "\n" not in text else None


def _corrected_form(form: list[tuple[str, str]], corrections: Mapping[str, Any]) -> bytes:
    fields = dict(form)  # a form's repeated names: the last wins, as the adapters read it (``dict(parse_qsl(...))``)
    for path, value in corrections.items():
        name, _, inner = path.partition(".")
        if not inner and value is REMOVED:
            if fields.pop(name, REMOVED) is REMOVED:
                raise NotResubmitted(f"--unset {path}: the form has no such field")
            continue
        if not inner:
            fields[name] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            continue
        try:
            document = json.loads(fields.get(name) or "{}")
        except ValueError:
            raise NotResubmitted(f"--set {path}: form field {name} holds no JSON object") from None
        if not isinstance(document, dict):
            raise NotResubmitted(f"--set {path}: form field {name} holds no JSON object")
        _set(document, path, inner.split("."), value)
        fields[name] = json.dumps(document, ensure_ascii=False)
    return urlencode(list(fields.items())).encode()


_NOT_CONTEXT = (SEALED_BODY_HEADER, SEAL_KEY_ID_HEADER, CLEAR_COPY_HEADER)  # headers the writer adds


def _headers(letter: DeadLetter) -> dict[str, str]:
    """The context ``letter``'s ingress noted, and the part it is about (``REFUSED_PART_CONTEXT``) if only a part of
    the record was refused: the re-mapping must open that part, or refuse the body again."""
    context = {h["key"]: bytes(h["value"]).decode("utf-8", "replace") for h in letter.fields.get("headers") or ()
               if h["value"] is not None and h["key"] not in _NOT_CONTEXT}
    if (part := refused_part(str(letter.fields.get("reason") or ""))) is not None:
        context[REFUSED_PART_CONTEXT] = part
    return context


def resubmitted(letter: DeadLetter, sealer: Sealer, resubmit: Resubmit, corrections: Mapping[str, Any],
                ) -> tuple[Outgoing, ...]:
    """The events to publish for ``letter``: its body opened, corrected and mapped again; raises ``NotResubmitted``.

    A dead letter about a refused part (``REFUSED_PART_CONTEXT``: a handoff, an offer answer, a card status) gives
    that part's events only: the rest of its record was published when the part was refused, and published again it
    would reach subscribers twice (a counter visit's digest changes with a correction: under new event ids, with the
    other outcome). The body is mapped as it came too, and what it maps to, the events published then, is left out;
    when it is refused now (the adapter's settings changed since), nothing can be told apart and every event goes,
    under the ids the adapter gave it (the processors drop a copy)."""
    sealed = sealed_body(letter)
    assert sealed is not None  # refusal() said so
    component = str(letter.fields["source_component"])
    try:
        body = sealer.open(sealed[0], component)
    except SealError as exc:
        raise NotResubmitted(str(exc)) from exc
    context = _headers(letter)
    at = letter.fields["failed_at"]
    if REFUSED_PART_CONTEXT not in context:
        return resubmit.resubmit(corrected(body, corrections), context, at, None)
    events = resubmit.resubmit(corrected(body, corrections), context, at, body)
    as_published = {name: value for name, value in context.items() if name != REFUSED_PART_CONTEXT}
    try:
        published = {event_id_of(event) for event in resubmit.resubmit(body, as_published, at, body)}
    except NotResubmitted:
        return events
    return tuple(event for event in events if event_id_of(event) not in published)


def event_id_of(outgoing: Outgoing) -> str | None:
    """The envelope's ``event_id`` of ``outgoing`` (every event carries one: ``bus.envelope``)."""
    envelope = outgoing.event.value.get("envelope")
    return envelope.get("event_id") if isinstance(envelope, Mapping) else None


async def redrive_sealed(settings: OmnibusSettings, letters: Sequence[DeadLetter], resubmits: Mapping[str, Resubmit],
                         operator: Operator, *, corrections: Mapping[str, Any] | None = None,
                         sealer: Sealer | None = None, dry_run: bool = False, check_done: bool = True,
                         ) -> list[Outcome]:
    """Re-submit each of ``letters`` (see the module docstring); one ``Outcome`` each, in order. ``sealer``: default,
    the deployment's key (``OMNIBUS_DEAD_LETTERS__SEAL_KEY``; None when unset). Raises ``bus.errors.PublishError`` if
    Kafka does not acknowledge a record (the letters before it are sent)."""
    if sealer is None and settings.dead_letters.seal_key is not None:
        sealer = Sealer(settings.dead_letters.seal_key.get_secret_value())
    outcomes: dict[str, Outcome] = {}
    ready: dict[str, tuple[DeadLetter, tuple[Outgoing, ...]]] = {}
    for letter in letters:
        if letter.id in outcomes or letter.id in ready:
            continue
        reason = refusal(letter, sealer, resubmits)
        if reason is None and sealer is not None:
            try:
                ready[letter.id] = (letter, resubmitted(
                    letter, sealer, resubmits[str(letter.fields["source_component"])], corrections or {}))
            except NotResubmitted as exc:
                reason = str(exc)
        if reason is not None:
            outcomes[letter.id] = Outcome(letter, "refused", reason=reason)
    outcomes.update(await publish_once(
        settings, {id_: Ready(letter, events, _note(letter, events)) for id_, (letter, events) in ready.items()},
        operator, dry_run=dry_run, check_done=check_done, published="dead letter re-submitted from its sealed body",
        corrected=sorted(corrections or {})))
    return [outcomes[id_] for id_ in dict.fromkeys(letter.id for letter in letters)]


def _note(letter: DeadLetter, events: Sequence[Outgoing]) -> str:
    """What a re-drive of ``letter`` publishes, for its answer line: how many events, and for a refused part that
    they are that part's only (the operator is told the rest is not published again)."""
    part = refused_part(str(letter.fields.get("reason") or ""))
    if part is None:
        return f"({counted(len(events), 'event')})"
    return (f"({counted(len(events), 'event')}: the {part_words(part)} only, the rest of its record was published "
            "when it was refused)")
