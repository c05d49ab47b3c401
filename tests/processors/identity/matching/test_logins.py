"""Portal-login F10: a portal login (a Segment userId) with the e-mail a billing system registered for its customer.

The login side brings a USER_ID and the e-mail, no names, no birth date; the billing customer holds the e-mail, its
customer number, account and phone, and its holder's traits, no login. At ``agree`` the e-mail weighed +3.9 bits
(the trained u, all of whose pairs of two people are households of two portal users) and no field that tells people
apart agreed: review. The e-mail's ``login`` level (``compare.login_level``, ``defaults.py``) weighs it by policy and
counts as person evidence, since a household's second login is refused by the one-login limit.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from processors.identity.matching.compare import Level, identifier_levels, login_level
from processors.identity.matching.defaults import DEFAULT_MU
from processors.identity.matching.traits import summarize
from processors.identity.matching.weights import Decision, MatchModel
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import matcher_settings

ALICE = summarize({"given_name": "Alice", "family_name": "Martin", "birth_date": "1985-01-12"})
RECORD = ["CUSTOMER_NUMBER:C-5001", "ACCOUNT:ACC-1001", "PHONE:+33612345671", "EMAIL:alice.martin@bank-test.fr"]
LOGIN = ["USER_ID:ob-alice", "EMAIL:alice.martin@bank-test.fr"]


def model() -> MatchModel:
    return LinkPolicy(matcher_settings()).matcher


def test_an_email_in_common_is_at_its_login_level_between_a_login_and_a_known_customer_without_one() -> None:
    assert login_level({"USER_ID", "EMAIL"}, {"EMAIL", "CUSTOMER_NUMBER"}) is Level.LOGIN  # the billing customer
    assert login_level({"EMAIL", "ACCOUNT"}, {"USER_ID", "EMAIL"}) is Level.LOGIN  # a counter customer
    assert login_level({"USER_ID", "EMAIL"}, {"USER_ID", "EMAIL", "ACCOUNT"}) is Level.AGREE  # two logins
    assert login_level({"EMAIL", "ACCOUNT"}, {"EMAIL", "CUSTOMER_NUMBER"}) is Level.AGREE  # no login
    # an anonymous visitor's e-mail (a browser's form, a phone or a device): nobody checked who typed it
    assert login_level({"USER_ID", "EMAIL"}, {"ANONYMOUS_ID", "EMAIL", "PHONE", "DEVICE"}) is Level.AGREE
    levels = identifier_levels(LOGIN + ["PHONE:+33600000000"], RECORD, ["EMAIL", "PHONE", "USER_ID"], ["EMAIL"])
    assert levels == {"EMAIL": Level.LOGIN, "PHONE": Level.DIFFERENT, "USER_ID": Level.MISSING}
    # a type without a login level (the phone: a household's landline, defaults.py) agrees as before
    assert identifier_levels(["USER_ID:u", "PHONE:+331"], ["PHONE:+331"], ["PHONE"], ["EMAIL"]) == {
        "PHONE": Level.AGREE}


def test_a_mailbox_known_to_be_two_peoples_is_never_at_its_login_level() -> None:
    """``households``: keys whose node held evidence of two people (a family mailbox on two billing lines): the login
    could be either's, so the e-mail weighs as trained and the pair goes to review."""
    matcher = model()
    score = matcher.score(None, ALICE, LOGIN, RECORD, households=["EMAIL:alice.martin@bank-test.fr"])
    assert score.levels["EMAIL"] is Level.AGREE and matcher.decide(score) is Decision.REVIEW
    levels = identifier_levels([*LOGIN, "EMAIL:own@x.fr"], [*RECORD, "EMAIL:own@x.fr"], ["EMAIL"], ["EMAIL"],
                                households=["EMAIL:alice.martin@bank-test.fr"])
    assert levels == {"EMAIL": Level.LOGIN}  # another mailbox in common is one person's


def test_the_testers_login_with_the_registered_email_alone_merges_into_the_billing_customer() -> None:
    """The tester's case: +3.9 bits and a review before; the login level's +19.8 bits make it +7.8, a merge."""
    matcher = model()
    assert matcher.login_kinds == ["EMAIL"]
    score = matcher.score(None, ALICE, LOGIN, RECORD)
    assert score.levels["EMAIL"] is Level.LOGIN and set(score.bits) == {"EMAIL"}
    assert score.weight == pytest.approx(7.8, abs=0.05)
    assert matcher.person_evidence(score.levels) and matcher.decide(score) is Decision.MERGE
    # the same login merged into the billing customer first, now meeting its own page views' customer: one login
    assert matcher.decide(matcher.score(ALICE, None, [*RECORD, "USER_ID:ob-alice"], ["USER_ID:ob-alice"])) \
        is Decision.MERGE


@pytest.mark.parametrize(("login", "traits", "decision"), [
    # the rest of the kind: a login with the registered phone only stays a review (the phone has no login level)
    (["USER_ID:ob-alice", "PHONE:+33612345671"], None, Decision.REVIEW),
    # with the customer number: merged, as before (the number agrees)
    (["USER_ID:ob-alice", "CUSTOMER_NUMBER:C-5001"], None, Decision.MERGE),
    # with the names of the master record too: merged, as before
    (LOGIN, {"given_name": "Alice", "family_name": "Martin"}, Decision.MERGE),
    # a login whose own traits disagree is another person, whatever the e-mail says: refused by the vetoes
    (LOGIN, {"given_name": "Paul", "family_name": "Martin"}, Decision.REFUSE),
    (LOGIN, {"given_name": "Alice", "birth_date": "2012-06-30"}, Decision.REFUSE),
    # the e-mail and another phone and account: something disagrees, an operator decides
    ([*LOGIN, "PHONE:+33698765432", "ACCOUNT:FR7630006000011234567890189"], None, Decision.REVIEW),
    # one disagreement (another phone: people have several): 7.8 - 2.7 = 5.1 bits, a review
    ([*LOGIN, "PHONE:+33698765432"], None, Decision.REVIEW),
])
def test_the_kind(login: list[str], traits: dict[str, str] | None, decision: Decision) -> None:
    matcher = model()
    score = matcher.score(summarize(traits) if traits else None, ALICE, login, RECORD)
    assert matcher.decide(score) is decision, (score.weight, score.levels)


def test_a_mailbox_between_two_logins_no_login_or_an_anonymous_visitor_is_weighed_as_trained() -> None:
    """Two portal users on one mailbox: the login level does not apply, the user ids differ (refused); two customers
    without a login (a counter customer and the billing one) on one mailbox, nothing else: +3.9 bits, a review; so is
    a login and an anonymous visitor who typed its e-mail (``graph/test_customer_join_order.py``)."""
    matcher = model()
    two_logins = matcher.score(None, None, LOGIN, ["USER_ID:ob-paul", "EMAIL:alice.martin@bank-test.fr"])
    assert two_logins.levels["EMAIL"] is Level.AGREE and matcher.decide(two_logins) is Decision.REFUSE
    no_login = matcher.score(None, ALICE, ["EMAIL:alice.martin@bank-test.fr"], RECORD)
    assert no_login.levels["EMAIL"] is Level.AGREE and no_login.weight == pytest.approx(3.85, abs=0.01)
    assert matcher.decide(no_login) is Decision.REVIEW
    browser = matcher.score(None, None, LOGIN, ["ANONYMOUS_ID:x1", "EMAIL:alice.martin@bank-test.fr"])
    assert browser.levels["EMAIL"] is Level.AGREE and matcher.decide(browser) is Decision.REVIEW


def test_a_deployment_that_leaves_the_login_level_out_of_match_mu_gets_the_review_back() -> None:
    """``MATCH_MU`` replaces a field's levels: an EMAIL without ``login`` weighs every e-mail as ``agree``."""
    settings = matcher_settings(match_mu={"EMAIL": {k: v for k, v in DEFAULT_MU["EMAIL"].items() if k != "login"}})
    matcher = LinkPolicy(settings).matcher
    assert matcher.login_kinds == []
    assert matcher.decide(matcher.score(None, ALICE, LOGIN, RECORD)) is Decision.REVIEW


ROOT = Path(__file__).resolve().parents[4]
RULE = "A portal login joins the known customer of its e-mail"


def test_the_docs_state_the_rule_and_the_weights_the_matcher_computes() -> None:
    """The identity README gives the rule with its weights; the top-level README and the legacy batch guide point
    to it (before, one said the login joins with the e-mail, the other only with the names too)."""
    readme = (ROOT / "processors/identity/README.md").read_text(encoding="utf-8")
    section = " ".join(readme[readme.index(f"**{RULE}**"):].split("**A mistyped national ID**")[0].split())
    matcher = model()
    email = DEFAULT_MU["EMAIL"]
    login_bits, agree_bits = (math.log2(m / u) for m, u in (email["login"], email["agree"]))
    assert f"+{login_bits:.1f} bits instead of +{agree_bits:.1f}" in section

    def weight(login: list[str], other: list[str] = RECORD) -> str:
        return f"+{matcher.score(None, ALICE, login, other).weight:.1f}"

    assert f"the e-mail alone weighs {weight(LOGIN)} bits and merges" in section
    assert (f"differs from the customer's too ({weight([*LOGIN, 'PHONE:+33698765432'])}, "
            f"{weight([*LOGIN, 'ACCOUNT:FR7630006000011234567890189'])} bits)") in section
    assert f"registered phone alone ({weight(['USER_ID:ob-alice', 'PHONE:+33612345671'])}:" in section
    assert f"typed its e-mail ({weight(LOGIN, ['ANONYMOUS_ID:x1', 'EMAIL:alice.martin@bank-test.fr'])}:" in section
    for doc in ("README.md", "docs/legacy-batch.md", "processors/identity/README.md"):
        text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
        assert "e-mail and names of the master record" not in text, doc
        assert RULE in text or "*login* level" in text, doc
