from processors.identity.matching.traits import Summary, combine, fold, summarize


def test_fold_removes_accents_case_and_punctuation() -> None:
    assert fold("  Zoë-Anne  O'Brien ") == "zoe anne o brien"


def test_summary_normalises_each_standard_trait() -> None:
    summary = summarize({"given_name": "Zoë", "family_name": "De la Cruz", "birth_date": "1984-07-02",
                         "address_line": "12 Main Street", "postcode": "sw1a 1aa", "preferred_language": "en"})
    assert summary == {"gn": ["zoe"], "fn": ["delacruz"], "bd": ["1984-07-02"], "ad": ["12 main st"],
                       "pc": ["SW1A1AA"]}


def test_full_name_is_split_when_no_given_and_family_name() -> None:
    assert summarize({"full_name": "Dr. Jean-Luc Picard"}) == {"gn": ["jeanluc"], "fn": ["picard"]}


def test_invalid_birth_date_is_left_out() -> None:
    assert summarize({"birth_date": "31/02/1990"}) == {}


def test_combine_is_order_independent_and_bounded() -> None:
    parts = [{"gn": ["ann"]}, {"gn": ["anne"]}, {"gn": ["anna"], "bd": ["1990-01-01"]}, {"gn": ["an"]}]
    forward = combine(combine(combine(parts[0], parts[1]), parts[2]), parts[3])
    backward = combine(combine(combine(parts[3], parts[2]), parts[1]), parts[0])
    assert forward == backward == {"gn": ["ann", "anna", "anne"], "bd": ["1990-01-01"]}  # real names before "an"


def test_a_customer_keeps_its_real_full_given_name_before_nicknames_and_typos() -> None:
    """Four given names seen, three kept: "william" stays beside "bill" and "billy", a typo goes, in any order
    (tester17 S1: dropping "william" let William's twin Robert agree through "bill")."""
    names = ["William", "Bill", "Billy", "Wiliam"]
    for order in (names, names[::-1], names[1:] + names[:1]):
        summary: Summary = {}
        for name in order:
            summary = combine(summary, summarize({"given_name": name}))
        assert summary["gn"] == ["bill", "billy", "william"]
