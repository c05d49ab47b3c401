"""Two identifiers of a type one person holds one of (two national IDs): two people, unless one was mistyped.

A national ID whose check character is valid can still be wrong: a clerk's slip of two digits may keep the French
NIR's key (a ghost "Alice Martin" born the same day made beside Alice, silently). So where the two sides
of a pair met on traits alone (blocking, no identifier in common) hold two identifiers of a type limited to one per
customer that the matcher vetoes (``match_vetoes``: the national ID; not a user id, whose second is another login),
that veto yields to a review, never to a merge, when everything else says one person: the pair's Fellegi–Sunter
weight, the difference counted as its Bayes factor (``NATIONAL_ID`` ``different``: log2(0.0005 / 0.999) = -11 bits),
is in the review band or above (at least ``refuse_below``), no other field vetoes (a given name or a birth date that
differs beyond a typo) and a field that tells people apart agrees (``person_fields``). With the defaults: the same
name and birth date with nothing else (-0.9 bits) is asked about; namesakes born the same day in two postcodes (-5.5
bits) stay apart unasked. The answer until an operator decides is "two people": the two stay apart (``omnibus
identity review reject`` keeps it so; one person: release the wrong identifier, then ``omnibus identity merge``).
"""

from __future__ import annotations

from processors.identity.matching.weights import Decision, MatchModel, MatchScore


def asked_despite(matcher: MatchModel, score: MatchScore, kind: str) -> bool:
    """Whether a pair that holds two different identifiers of ``kind`` (a type limited to one per customer) goes to
    review rather than being refused: ``kind`` is one the matcher vetoes (``match_vetoes``: the national ID; not a
    user id, of which a second is another login, refused and announced as before) and ``score`` (its levels with
    ``kind`` ``different``) is refused by nothing but that veto, reaches ``matcher.refuse_below`` and has person
    evidence (module docstring)."""
    others = {name: level for name, level in score.levels.items() if name != kind}
    return (kind in matcher.vetoes and matcher.veto(others) is None and matcher.person_evidence(others)
            and matcher.decide_weight(score.weight) is not Decision.REFUSE)


def vetoed_kind(matcher: MatchModel, score: MatchScore) -> str | None:
    """The identifier type whose veto refuses ``score`` (``MatchModel.veto``: two national IDs), if that is what
    refuses it; None for a trait's veto or none."""
    vetoed = matcher.veto(score.levels)
    return vetoed if vetoed in matcher.identifier_kinds else None
