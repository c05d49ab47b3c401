"""A split divides the trait summary the matcher weighs, as it divides the names (#8 point 7: a split is respected by
the matcher afterwards).

A customer's summary (``CustomerState.traits``, ``matching.traits``) is a union that records no source. At a merge
it takes the merged customer's; at a split it stayed whole with the source and the new customer had none, so the
split-off person's next record that shares no identifier with either (a new e-mail with her name and birth date) was
matched by blocking to the source, her traits being there (tester20 F3, the unmerge of a manual merge).

The profile's name observations (``processors.profile.sections.name``) are divided by the identifiers they came
through (``ProfileBook.split``); they tell which values of the summary are the moved person's: a given or family name
that only moved observations gave, a birth date whose year only moved observations gave, leave the source; the new
customer's summary is the names of its observations and the summary's birth dates of their years. Everything else
(an address, a value both sides' observations gave, or no observation) stays with the source as before: a value
leaves only on evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from processors.identity.graph import browser_login
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.evidence import file_blocking
from processors.identity.graph.messages.steps import Unblock
from processors.identity.graph.profile_codec import decode_profile
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.traits import BIRTH, FAMILY, GIVEN, Summary, combine, summarize
from processors.profile.sections.name import NameSection

_SEEN, _BORN = "seen", "born"  # ``NameSection``'s state: {"seen": {event id: {"given_name", "family_name", "born"}}}


def _observations(profile: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return list(((profile or {}).get(NameSection.name) or {}).get(_SEEN, {}).values())


def _names(observations: Iterable[Mapping[str, Any]]) -> Summary:
    summary: Summary = {}
    for entry in observations:
        summary = combine(summary, summarize({"given_name": entry.get("given_name") or "",
                                              "family_name": entry.get("family_name") or ""}))
    return summary


def _years(observations: Iterable[Mapping[str, Any]]) -> set[int]:
    return {int(entry[_BORN]) for entry in observations if entry.get(_BORN) is not None}


def divide(summary: Summary | None, kept: list[Mapping[str, Any]],
           moved: list[Mapping[str, Any]]) -> tuple[Summary | None, Summary | None]:
    """``(the source's summary, the new customer's)`` after a split that left the name observations ``kept`` on the
    source and moved ``moved`` (the module's rule). Pure; ``summary`` unchanged, and no new summary, when nothing
    moved tells a value."""
    if not summary or not moved:
        return summary, None
    kept_names, moved_names = _names(kept), _names(moved)
    kept_years, moved_years = _years(kept), _years(moved)

    def year(value: str) -> int | None:
        return int(value[:4]) if value[:4].isdigit() else None

    def theirs(field: str, value: str) -> bool:
        if field in (GIVEN, FAMILY):
            return value in moved_names.get(field, ()) and value not in kept_names.get(field, ())
        return field == BIRTH and year(value) in moved_years and year(value) not in kept_years

    source = {field: [value for value in values if not theirs(field, value)] for field, values in summary.items()}
    born = [value for value in summary.get(BIRTH, ()) if year(value) in moved_years]  # both sides' too
    new = combine({BIRTH: born} if born else {}, moved_names)
    return {field: values for field, values in source.items() if values} or None, new or None


def at_split(ctx: Node, taken: bytes | None) -> Summary | None:
    """At the source of a split whose profile part ``taken`` (``split_contacts.hand_over``) went: this root's summary
    divided (``divide``), its blocking entries under keys it no longer has removed and the rest filed again; returns
    the new customer's summary (``SplitInit.traits``)."""
    state = ctx.state
    moved = _observations(decode_profile(taken)) if taken else []
    before = state.traits
    source, new = divide(before, _observations(ctx.store.get_profile(ctx.key)), moved)
    if source != before:
        for key in sorted(set(block_keys(before or {})) - set(block_keys(source or {}))):
            ctx.send(key, Unblock(ctx.key))
        state.traits = source
        file_blocking(ctx)
    return new


def staying(ctx: Node, moving: Iterable[str]) -> Summary | None:
    """This root's summary as a split moving the members ``moving`` would leave it (``divide``, with the name
    observations that would follow them: ``ProfileBook.split``, pure); nothing changes. ``displace.py`` weighs an
    arriving login against what stays where a resident user id would leave, without the names its own events told."""
    state, going = ctx.state, set(moving)
    profile = ctx.store.get_profile(ctx.key)
    if not state.traits or not profile or not going:
        return state.traits
    held = browser_login.not_held(key for key in state.members if key not in going)  # a browser holds no name
    stays, goes = ctx.graph.book.split(profile, [], going, held)
    return divide(state.traits, _observations(stays), _observations(goes))[0]
