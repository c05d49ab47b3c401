"""What the ``omnibus identity review`` commands read: the review topic, with the merges since and who holds what."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from processors.identity.cli_common import _current_owners

if TYPE_CHECKING:
    from bus.config import OmnibusSettings
    from bus.serde import Event
    from processors.identity.review import OpenReview
    from processors.identity.review_sides import Side


async def _review_events(settings: OmnibusSettings) -> tuple[list[Event], dict[str, str]]:
    """The review topic's events, and every merge so far (merged-away customer id -> survivor id, from
    ``customer.events.v1``): requests for the same two customers under ids that merged since are one review."""
    events, survivors, _ = await _review_and_customer_events(settings)
    return events, survivors


async def _review_and_customer_events(settings: OmnibusSettings) -> tuple[list[Event], dict[str, str], list[Event]]:
    """``_review_events`` and the customer events it read them with."""
    from bus.replay import replay_topic
    from bus.topics import CUSTOMER_EVENTS, IDENTITY_REVIEWS
    from processors.verify.identity import MERGED

    reviews, customers = await asyncio.gather(replay_topic(settings, IDENTITY_REVIEWS),
                                              replay_topic(settings, CUSTOMER_EVENTS))
    survivors = {event.value["merged_customer_id"]: event.value["survivor_customer_id"]
                 for event in customers.events if event.schema == MERGED}
    return list(reviews.events), survivors, list(customers.events)


async def _listing(settings: OmnibusSettings
                   ) -> tuple[list[OpenReview], dict[str, Side], list[OpenReview], dict[str, str]]:
    """The open reviews, what each current customer holds (``review_sides``, who holds what as
    ``customer.identifiers.v1`` says), the requests whose two customers have merged since, and those a later request
    of the same two customers superseded (id -> the open one's id), from one read of the topics."""
    from processors.identity.review import closed_reviews, open_reviews, superseded_reviews
    from processors.identity.review_sides import customer_sides

    (events, survivors, customers), owners = await asyncio.gather(_review_and_customer_events(settings),
                                                                  _current_owners(settings))
    return (open_reviews(events, survivors), customer_sides(customers, owners),
            closed_reviews(events, survivors), superseded_reviews(events, survivors))
