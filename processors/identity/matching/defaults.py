"""Default m/u probabilities, prior and thresholds of the matcher.

How they were obtained: ``python tests/bench/identity_quality.py --train`` generates the labelled
people of the quality benchmark (its own seed, not the evaluation seed), forms every candidate pair
the processor can meet (a common identifier or a common blocking key), computes the comparison levels
and counts, per level, the share among true pairs (m) and among false pairs (u), with add-one
smoothing; the prior is log2 of the true/false odds among candidate pairs. The values are rounded.
Identifier types absent from the labelled set (DEVICE, ANONYMOUS_ID, CARD, CUSTOMER_NUMBER) are set by hand: an
anonymous id or a device agrees for different people about as rarely as an e-mail does. So is the e-mail's ``login``
level (``compare.login_level``: a login meeting a known customer without one), which the labelled set never meets.
A level the labelled set has no example of is not given a hand-set m that makes it evidence: postcodes have no
"close" level (``compare.postcode_level``; none of 6 029 true pairs on the training seed has two postcodes one edit
apart, 193 of 300 000 random pairs of two people do). Nor is an address line that agrees in another
place (``compare.place_level``: the postcodes, else the towns, or the countries differ): its level ``elsewhere`` is
left out of the table (0 bits). On the training seed no pair of one person's records has it and 60 of the 28.3 million
pairs of two people's do (strangers on one faker street name in two towns; the 1 126 pairs of housemates on one line
share the postcode where both give one), so the set gives it no m; a person's postcode typo (one line, two
postcodes) would make it evidence of one person, a common street name ("12 rue de la République") evidence of two.
The other place is counted once, by the postcodes' ``different`` (else the towns', ``city``, set like it by
policy); weighing the line ``different`` as well would count that one fact twice.
The converse dependence stays: a line and a postcode that both agree add +13.8 and +13.7 bits, where the training
seed's pairs that agree on both weigh +13.9 bits as one comparison (4 225 of 5 099 pairs of one person with both
fields, 11 of 218 831 random pairs: housemates), because its faker postcodes (a department and 3 random digits,
for 3 000 people) are nearly as rare as a street line. A real postcode holds thousands of people and the line
within it is further evidence, so the set cannot measure the real overlap; the pairs it inflates, same line and
postcode, are households' first of all, which the vetoes and person fields below keep apart whatever the weight.
Override any of them with ``OMNIBUS_PROCESSOR_IDENTITY__MATCH_MU`` (JSON, merged per field).
"""

from __future__ import annotations

DEFAULT_MU: dict[str, dict[str, tuple[float, float]]] = {
    # trained: --train --people 3000 --seed 8 (7530 records, 7048 true pairs, 300 000 random pairs;
    # identifier agreement counted over all pairs)
    # given_name retrained 2026-11-30 (--train --people 3000 --seed 8) when two real first names became
    # "different" (given_names.distinct); the same training with the rule off gives close (0.177, 0.00488),
    # different (0.00456, 0.991): "close" is 3x rarer between strangers, "different" twice as common in one
    # person's records (a typo that makes another real name: "celia"/"celina")
    "given_name": {"exact": (0.818, 0.00399), "close": (0.173, 0.0015), "different": (0.00912, 0.995)},
    "family_name": {"exact": (0.832, 0.0022), "close": (0.157, 0.00322), "different": (0.0107, 0.995)},
    # birth_date retrained 2026-12-02 (--train --people 3000 --seed 8) when two neighbouring digits swapped ("1957" /
    # "1975") became "close" (compare.date_level): close u 0.00112 -> 0.00116 (the random pairs whose
    # dates are one swap apart); m unchanged, 0.0512: the labelled set corrupts a date by one digit or by day and month
    # swapped, never by a swap of two digits, so a swap weighs as the typos it was trained on, +5.5 bits
    "birth_date": {"exact": (0.948, 5.09e-05), "close": (0.0512, 0.00116), "different": (0.00127, 0.999)},
    # address retrained 2026-12-01 (--train --people 3000 --seed 8) when a line agreeing in another place became
    # "elsewhere" (0 bits, above): close u was 0.000149, 29 of its 37 random pairs were strangers in two towns
    # ("rue de X" / "rue de Y"); exact u was 6.28e-05
    "address": {"exact": (0.827, 5.89e-05), "close": (0.142, 3.53e-05), "different": (0.0309, 1.0)},
    "USER_ID": {"agree": (1.0, 9.83e-08), "different": (0.000391, 1.0)},
    # by policy, as USER_ID (the labelled set has no system of record's customer numbers): one number per customer
    # in its system of record; before, a layout's customer_id was a USER_ID and weighed exactly this
    "CUSTOMER_NUMBER": {"agree": (1.0, 9.83e-08), "different": (0.000391, 1.0)},
    "ACCOUNT": {"agree": (0.889, 2.2e-07), "different": (0.111, 1.0)},
    # "login": an e-mail in common between a login (USER_ID) and a known customer without one (a customer number,
    # account, card or national ID: compare.login_level), such as a portal login and the customer of a billing record
    # that registered the e-mail; an anonymous visitor's e-mail stays "agree". By policy: m as "agree"'s, u 1e-06
    # (as a card's), so the e-mail alone weighs +7.8 bits (P = 0.996) and merges, and with a phone or an account that
    # differs too (-2.7, -3.2 bits) goes to review. The labelled set cannot train it: its e-mails are all portal users',
    # so its 157 pairs of two people on one mailbox (of 10.2 million pairs of e-mail holders, u 1.55e-05; training
    # seed) are all households of two logins, which the one-login limit refuses whatever the e-mail weighs. At "agree"
    # such a login weighed +3.9 bits and waited for review (portal-login F10). The phone has no "login" level: on the
    # same seed a login and a counter customer share another person's phone (a household's landline) as often as any
    # two records do (317 of 4.21 million such pairs, u 7.5e-05; otherwise 272 of 4.21 million)
    "EMAIL": {"agree": (0.898, 1.55e-05), "login": (0.898, 1e-06), "different": (0.102, 1.0)},
    # trained, except "different" by policy: people move and have several phones (the labelled set
    # gives everyone one of each, which would make any difference damning). Postcodes have no "close" level
    # (compare.postcode_level): the labelled set has no postcode typos (its m was the smoothing's 0.01) while a
    # postcode one digit off is another town, and the old (0.01, 0.000675), +3.9 bits, merged two namesakes born
    # the same day in Toulouse and Bordeaux; one edit now weighs as "different", -4.6 bits.
    "postcode": {"exact": (0.95, 7.37e-05), "different": (0.04, 0.999)},
    "PHONE": {"agree": (0.85, 7.01e-05), "different": (0.15, 1.0)},
    # by policy, as the postcode's "different": the labelled set has no towns. A town is compared only where the
    # postcodes cannot be (compare.trait_levels: one place disagreement counts once); its agreement is left out
    # (0 bits): a town holds up to millions of people, and "exact" is not trained
    "city": {"different": (0.04, 0.999)},
    # by policy: one national ID per person; the rest are not in the labelled set
    "NATIONAL_ID": {"agree": (0.99, 1e-08), "different": (0.0005, 0.999)},
    "CARD": {"agree": (0.5, 1e-06), "different": (0.3, 1.0)},
    "DEVICE": {"agree": (0.5, 1e-05)},
    "ANONYMOUS_ID": {"agree": (0.5, 1e-07)},
}
DEFAULT_PRIOR = -11.97  # log2 odds that two records picked at random are one person (trained set)
TRAINED_POPULATION = 3000  # people in the training set (--people 3000) the prior and the u values stand for
# People the customer base holds (a bank's or an operator's: millions): a pair met on traits alone (no
# identifier in common) starts from a prior log2(DEFAULT_POPULATION / TRAINED_POPULATION) = 8.4 bits lower, so
# one name and birth date (+30 bits) with an account and a phone that differ (-5.9) is a review, not a merge
# (weights.population_bits). OMNIBUS_PROCESSOR_IDENTITY__MATCH_POPULATION sets it.
DEFAULT_POPULATION = 1_000_000
DEFAULT_MERGE_AT = 6.0  # bits of posterior odds: P(match) ≥ 0.985
DEFAULT_REFUSE_BELOW = -4.0  # bits: P(match) < 0.06; between the two: review
# Fields that refuse a merge when they differ (beyond a typo), whatever the weight: see weights.py.
DEFAULT_VETOES = ("NATIONAL_ID", "given_name", "birth_date")
# A merge needs one of these to agree: what a household does not share (else: review). An anonymous id
# is one browser's: Segment's identify links it to the user who logs in there.
DEFAULT_PERSON_FIELDS = ("given_name", "birth_date", "NATIONAL_ID", "CUSTOMER_NUMBER", "USER_ID", "ACCOUNT", "CARD",
                         "ANONYMOUS_ID")
# A merge with no identifier in common (a blocking candidate, met on traits alone) needs one of these to agree as well
# (else: review). Name and birth date are public: a stranger who types a customer's ("Lefebre" for
# "Lefebvre", no address) weighed +7.1 bits and took the customer's screen pop with an e-mail of his own. Where the
# customer lives is what a namesake or an impostor does not share. On the quality bench (seed 8) it sends 12 more
# pairs of one person to review, each with a side whose records gave neither field or each only the one the other
# lacks: recall 0.9849 -> 0.9828, review queue 30 -> 42 (tests/bench/results/identity_quality.md).
DEFAULT_UNLINKED_FIELDS = ("address", "postcode")
