"""``omnibus identity review list`` as text: one block per open review, within any terminal width; and as JSON Lines
(``--json``): the same reviews, open, closed and superseded, one per line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bus.cli.tables import report_table
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.plural import counted
from processors.identity.review_sides import Side, masked_labels, to_decide

if TYPE_CHECKING:
    from rich.console import Console

    from processors.identity.matching.weights import MatchModel
    from processors.identity.review import OpenReview


def review_lines(reviews: list[OpenReview], matcher: MatchModel, sides: dict[str, Side] | None = None,
                 closed: list[OpenReview] | None = None, superseded: dict[str, str] | None = None
                 ) -> Iterator[dict[str, Any]]:
    """What ``print_reviews`` lists, a review per line, each with its ``state``: ``open`` (``review.as_json``),
    ``closed`` (``closed_because: "merged"``: the two customers named by ``requested_as`` have merged into
    ``customer_id`` since, nothing to decide) and ``superseded`` (``superseded_by``: the open review of the same two
    customers to decide instead). A script reading ``--json`` saw none but the open ones: a request it had seen
    vanished without a word."""
    from processors.identity.review import as_json

    for review in reviews:
        yield {**as_json(review, matcher, sides), "state": "open"}
    for review in closed or ():
        yield {"review_id": review.review_id, "state": "closed", "closed_because": "merged",
               "customer_id": review.customer_id,
               "requested_as": list(review.requested_as or (review.customer_id, review.other_customer_id))}
    for review_id, by in (superseded or {}).items():
        yield {"review_id": review_id, "state": "superseded", "superseded_by": by}


def print_reviews(reviews: list[OpenReview], matcher: MatchModel, console: Console | None = None,
                  sides: dict[str, Side] | None = None, closed: list[OpenReview] | None = None,
                  superseded: dict[str, str] | None = None) -> None:
    """Each review as a block: its id and the customer ids on lines of their own, never folded (they are pasted
    into `review accept`), what each customer holds and from how many records of which channels (``sides``,
    ``review_sides``), the two identifiers by kind and masked, then a table of the compared fields: level
    and Fellegi–Sunter weight (bits) with the prior, so the rows add up to the weight. Fields with nothing to
    compare (``missing``, 0 bits) are named on one line, and a side known by nothing but what the two have in
    common is said in words (``review_sides.only_in_common``), so are two national IDs (``review_sides.mistyped``).
    The compared traits' values (names, birth date, postcode) are not shown: ``MergeReviewRequested`` carries their
    levels only, and the line says where the names are (the proposal to carry them masked:
    /work/notes/screenpop12.md).

    The customers are the current ones (``review.open_reviews`` with the merges): a side requested under a record
    that has merged since is named by its survivor, the record said on a line of its own, and what each holds and
    the advice are the survivor's (tester F4). ``closed``: requests whose two customers have merged since
    (``review.closed_reviews``), one line each after the open ones: nothing to decide. ``superseded``: requests a
    later request of the same two customers replaced (``review.superseded_reviews``, id -> the open one's id), one
    line each naming the review to decide instead (the id vanished from the list without a word)."""
    from rich.console import Console

    from processors.identity.review import as_json

    console = console or Console()
    sides = sides or {}
    for review in reviews:
        shown = as_json(review, matcher, sides)
        labels = masked_labels(review.identifiers, sides, (review.customer_id, review.other_customer_id))
        console.print(f"review {review.review_id}  weight {review.match_weight:+.1f} bits", soft_wrap=True,
                      highlight=False)
        console.print(f"  customers    {review.customer_id}  {review.other_customer_id}", soft_wrap=True,
                      highlight=False)
        for then, now in review.merged_since():
            console.print(f"  requested as {then}, merged into {now} since: the weight and levels compare the "
                          "records as requested, not the customers now", soft_wrap=True, highlight=False)
        for customer in (review.customer_id, review.other_customer_id):
            if customer in sides:
                console.print(f"  {customer}", soft_wrap=True, highlight=False)
                console.print(f"      {sides[customer].summary(labels)}", highlight=False, markup=False)
        common = ", ".join(shown["identifiers_in_common"]) or "none (a blocking candidate)"
        console.print(f"  in common    {common}", soft_wrap=True, highlight=False)
        console.print(f"  identifiers  {'  '.join(shown['identifiers'])}", soft_wrap=True, highlight=False)
        table = report_table("field", "level", "weight (bits)", console=console, show_edge=False)
        # a blocking candidate starts from the population's prior (MatchModel.prior_of): the rows still add up
        table.add_row("prior", "", f"{shown['prior']:+.1f}")
        compared = [item for item in shown["fields"] if item["level"] != "missing"]
        for item in compared:
            table.add_row(item["field"], item["level"], f"{item['weight']:+.1f}")
        console.print(table)
        missing = sorted(item["field"] for item in shown["fields"] if item["level"] == "missing")
        if missing:
            console.print(f"  nothing to compare, missing on one side or both (0 bits): {', '.join(missing)}",
                          highlight=False)
        traits = [item["field"] for item in compared if item["field"] not in IDENTIFIER_TYPES]
        if traits:
            console.print(f"  values       not on the review record ({', '.join(traits)}: levels only): each "
                          "customer's name is on its screen pop, GET /customers/<customer id>", highlight=False,
                          markup=False)
        if (hint := to_decide(review, shown["identifiers_in_common"], sides, matcher.vetoes)) is not None:
            console.print(f"  to decide: {hint}", highlight=False, markup=False)
        console.print()
    for review in closed or ():
        console.print(f"review {review.review_id}  closed: {' and '.join(review.requested_as)} have merged into "
                      f"{review.customer_id} since, nothing to decide", soft_wrap=True, highlight=False)
    for review_id, by in (superseded or {}).items():
        console.print(f"review {review_id}  superseded by review {by}: a later request for the same two customers, "
                      "decide that one", soft_wrap=True, highlight=False)
    moot = f", {len(closed)} closed: their two customers have merged since" if closed else ""
    replaced = (f", {len(superseded)} superseded by a later request for the same two customers"
                if superseded else "")
    console.print(f"{counted(len(reviews), 'open review')}{moot}{replaced}")
