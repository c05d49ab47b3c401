"""What the screen pop (``processors.identity.web``) says beside a customer's data, worded from what the workers
answered: the masked values of one answer told apart, the customers an operator split off, why another customer
answers for an id, and the hint that an identifier is not one person's. Pure functions: no state, no I/O.
"""

from __future__ import annotations

from typing import Any

from bus.plural import noun_for
from processors.profile.masking import mask_keys


def masked_values(keys: list[str]) -> dict[str, str]:
    """``TYPE:value`` key -> its masked value in one answer (``bus.identifiers.masking.mask``: an account's, an
    e-mail's... followed by its keyed tag, ``EA-****0001~K7Q``, the same in every answer and command), two values with
    the same mask (two phones ending alike; any two where no key is set) numbered in key order
    (``bus.identifiers.masking.mask_keys``: the number says nothing more about either value). Never an unkeyed digest
    of the value: one of a phone's or an account's few hidden digits would give them away by brute force."""
    unique = sorted(set(keys))
    return {key: label.partition(":")[2] for key, label in zip(unique, mask_keys(unique), strict=True)}


def split_offs(node: dict[str, Any]) -> list[str]:
    """The customers an operator split apart from this customer node (``state_view``) or from one merged into it: its
    ``do_not_merge`` without those a rejected review put there (``CustomerState.rejected``)."""
    rejected = set(node.get("rejected") or ())
    return [customer for customer in node.get("do_not_merge") or () if customer not in rejected]


def resolved_note(requested: str | None, current: str, splits: list[str]) -> str | None:
    """Why customer ``current`` answers for the id ``requested``; None when they are the same (or none was asked).

    A merged-away id resolves to the customer it was merged into (followed through later merges), also after an
    operator split: the graph does not record which identifiers each merged customer brought, so it cannot tell
    whether the split took back what ``requested`` brought. Then the note says so and names the split-offs
    (#8 point 7, new-user finding 2)."""
    if requested is None or requested == current:
        return None
    note = f"customer {requested} was merged into {current}"
    if splits:
        split = f"{noun_for(len(splits), 'customer')} {', '.join(splits)}"
        note += (f"; an operator split {split} off it since or before: what {requested} "
                 "brought may be there (a merge does not record which identifiers it brought)")
    return note


def shared_hint(kind: str, masked: str, *, shared: bool, people: int, customer_ids: list[str], kept_by: str | None,
                this_customer: str | None, holder: bool = False) -> dict[str, Any] | None:
    """The screen pop's hint that an identifier is not one person's, or None for one person's.

    It is when the events of two people or more carried it (``people`` in: whom the matcher tells apart,
    ``evidence.people_count``), when customers were kept apart from its owner through it (``customer_ids``,
    ``IdentifierState.kept_apart``: a refusal, a review, an operator's rejection, a limit), or when it is shared past
    ``shared_after``. Shape::

        {"type": "PHONE", "value": masked, "people": 3, "customer_ids": [keeper, other, ...],
         "without_customer": 1, "kept_by": keeper or None, "links": bool, "note": text}

    One source for the counts (``"people": 1`` was shown beside two customers, ``"people": 3`` beside
    two): the hint's ``people`` is the customers it names plus ``without_customer``, the people the evidence shows
    beyond them (a caller whose events carried nothing else has no customer of its own); customers kept apart by
    a rule count as the people they are kept apart as. The note says the same numbers.
    ``links``: True while a contact carrying it alone still goes to ``kept_by``'s screen pop (usually the customer
    whose event carried it first, ``graph/claim_node.py``), though it may be another of ``customer_ids``; False once it
    is shared by more people than ``shared_after`` allows: it links nobody. ``customer_ids`` are current ids.
    ``holder``: this customer's own business line named this account (a joint account's other holder): the note adds
    that the account's facts that name no holder (a bill, arrears, a closure) are on ``kept_by``'s screen pop, where
    identity placed them (they reach a customer through the account alone); a customer the account is shared with
    by a refused link only is not told so.
    """
    if people < 2 and not shared and len(customer_ids) < 2:
        return None
    without = max(0, people - len(customer_ids))
    total = len(customer_ids) + without
    listed = ", ".join(customer_ids)
    more = (f"{' and ' if customer_ids else ''}{without} without a customer of their own (their events carried "
            "nothing else)") if without else ""
    if people >= 2 and len(customer_ids) > people:  # e.g. one created by a call with nothing else (a review)
        subject = (f"this {kind} {masked} is on the records of {total} customers kept apart (customers {listed}); "
                   f"their events show {people} people: some of these customers may be one person")
    elif people >= 2:
        subject = f"this {kind} {masked} is used by {total} people ({'customers ' + listed if listed else ''}{more})"
    elif customer_ids:  # kept apart by a rule (a limit, a split, a review), not by two people's evidence
        subject = (f"this {kind} {masked} is on the records of {total} customers kept apart (customers {listed}); "
                   "nothing in their events tells them apart")
    else:
        subject = f"this {kind} {masked} is shared"
    if shared or kept_by is None:
        note = (f"{subject}. It no longer links anyone (more people than shared_after allows): a contact that "
                "carries it alone is on no screen pop")
    elif kept_by == this_customer:
        note = (f"{subject}. A contact that carries it alone is shown on this screen pop, of the customer who "
                "keeps it, but may be another of them: ask who is calling")
    else:
        note = (f"{subject}. It is kept by customer {kept_by}: a contact that carries it alone is shown on that "
                "customer's screen pop, not on this one")
        if holder:
            note += (f". This customer's own line names this joint account: its facts that name no holder (bills, "
                     f"arrears, its closure) are shown on customer {kept_by}'s screen pop, not on this one: look there")
    return {"type": kind, "value": masked, "people": total, "customer_ids": customer_ids, "without_customer": without,
            "kept_by": kept_by, "links": not shared and kept_by is not None, "note": note}
