"""Why ``omnibus identity review accept|reject ID`` decides nothing: one line on stderr, exit 2."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from bus.serde import Event
    from processors.identity.config import IdentitySettings
    from processors.identity.review import OpenReview


def _no_open_review_exit(review_id: str, events: list[Event], survivors: dict[str, str]) -> NoReturn:
    """Exit 2 with one line: already decided (by whom, when; also when another request for the same two
    customers was), its two customers merged since, or unknown."""
    from processors.identity.review import decided_as, decided_reviews, merged_since, superseded_reviews

    decided_id = decided_as(review_id, events, survivors)
    decided = decided_reviews(events).get(decided_id) if decided_id is not None else None
    superseded_by = superseded_reviews(events, survivors).get(review_id)
    if superseded_by is not None:  # answered "no open review", as if it never was
        typer.echo(f"error: review {review_id} was superseded by review {superseded_by}, a later request for the same "
                   f"two customers: decide that one (omnibus identity review accept|reject {superseded_by})", err=True)
    elif decided is not None:
        also = "" if decided_id == review_id else f" (as review {decided_id}, the same two customers)"
        typer.echo(f"error: review {review_id} was already {decided.describe()}{also}", err=True)
    elif merged_since(review_id, events, survivors):
        typer.echo(f"error: review {review_id}: its two customers have merged since", err=True)
    else:
        typer.echo(f"error: no open review {review_id} (see `omnibus identity review list`)", err=True)
    raise typer.Exit(2)


def _refuse_two_people(review_id: str, review: OpenReview, owners: dict[str, str], survivors: dict[str, str],
                       identity: IdentitySettings) -> None:
    """Exit 2 with one line when the review's two customers would hold together more identifiers of a type than its
    per-customer limit allows (``merge.over_limit``, as ``identity merge`` refuses: two national IDs, a review
    ``matching.mistyped`` opens; two portal logins): the graph would refuse the accept's link
    (``LinkRefused`` ``max-per-customer``) after the CLI said "accepted". The line says how to merge them if one was
    mistyped."""
    from processors.identity.merge import held_by, over_limit
    from processors.identity.review import current_pair
    from processors.identity.rules import LinkPolicy

    first, second = sorted(current_pair(review, survivors))
    held = held_by(owners, survivors)
    over = over_limit(LinkPolicy(identity), held.get(first, []), held.get(second, []))
    if over is not None:
        typer.echo(f"error: review {review_id} not accepted: {over.refusal(first, second)}. If they are two "
                   f"people: omnibus identity review reject {review_id}", err=True)
        raise typer.Exit(2)
