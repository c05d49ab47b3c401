from processors.identity.matching.blocking import block_keys, is_block
from processors.identity.matching.traits import summarize


def test_same_person_with_typos_shares_a_key() -> None:
    first = block_keys(summarize({"given_name": "Catherine", "family_name": "Smith", "birth_date": "1984-07-02"}))
    second = block_keys(summarize({"given_name": "Catherine", "family_name": "Smyth", "birth_date": "1984-07-02"}))
    assert set(first) & set(second) and all(is_block(key) for key in first)


def test_postcode_keys_swapped_names_and_nothing_from_a_single_name() -> None:
    assert block_keys(summarize({"given_name": "Ann", "postcode": "75001"})) == ["BLOCK:pg:75001:a"]
    swapped = block_keys(summarize({"given_name": "Lee", "family_name": "Ann", "birth_date": "1980-01-01"}))
    assert swapped == block_keys(summarize({"given_name": "Ann", "family_name": "Lee", "birth_date": "1980-01-01"}))
    assert block_keys(summarize({"family_name": "Lee"})) == []
