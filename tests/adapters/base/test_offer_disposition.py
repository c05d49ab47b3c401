import pytest

from adapters.base.offer_disposition import BadDisposition, OfferDisposition


def test_nothing_recorded_is_none() -> None:
    assert OfferDisposition.parse(None, "", None) is None


@pytest.mark.parametrize(("response", "symbol"), [("accepted", "ACCEPTED"), ("Not now", "NOT_NOW"),
                                                  ("opted-out", "OPTED_OUT"), ("presented", "PRESENTED")])
def test_dispositions_read_as_offer_responses(response: str, symbol: str) -> None:
    assert OfferDisposition.parse("fibre", "2", response) == OfferDisposition("fibre", 2, symbol)


@pytest.mark.parametrize(("args", "field"), [(("fibre", "two", "accepted"), "offer_version"),
                                             (("", 1, "accepted"), "offer_id"),
                                             (("fibre", 1, "maybe"), "offer_response")])
def test_half_recorded_answers_are_refused_with_the_field(args: tuple, field: str) -> None:
    with pytest.raises(BadDisposition) as caught:
        OfferDisposition.parse(*args)
    assert caught.value.field == field
