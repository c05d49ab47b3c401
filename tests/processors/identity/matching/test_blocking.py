from processors.identity.matching.blocking import block_keys, is_block
from processors.identity.matching.traits import summarize


def test_same_person_with_typos_shares_a_key() -> None:
    first = block_keys(summarize({"given_name": "Catherine", "family_name": "Smith", "birth_date": "1984-07-02"}))
    second = block_keys(summarize({"given_name": "Catherine", "family_name": "Smyth", "birth_date": "1984-07-02"}))
    assert set(first) & set(second) and all(is_block(key) for key in first)


def test_postcode_and_initial_key_and_nothing_without_date_or_postcode() -> None:
    assert block_keys(summarize({"given_name": "Ann", "postcode": "75001"})) == ["BLOCK:pg:75001:a"]
    assert block_keys(summarize({"given_name": "Ann", "family_name": "Lee"})) == []
