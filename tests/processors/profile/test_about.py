import pytest

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.profile.about import about, account_number
from tests.processors.identity.support import account_opened, interaction

IBAN = "ACCOUNT:FR7630006000011234567890189"
CARRIED = ["ACCOUNT:EDF-700001", IBAN, "EMAIL:robert.durand@example.org", "PHONE:+33145000011"]
# tester26 F5: a utility's billing writes its contracts CA-900001 (OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT)
BILLING = NumberFormat(prefix="CA-")
BILLINGS = ["ACCOUNT:CA-900001", "EMAIL:robert.durand@example.org"]  # as identity keys them under BILLING


def test_a_business_event_is_about_its_account_when_it_came_through_it() -> None:
    assert about(account_opened("EDF-700001"), CARRIED, None) == ["ACCOUNT:EDF-700001"]
    assert about(account_opened("edf-700001"), CARRIED, None) == ["ACCOUNT:EDF-700001"]  # compared in its normal form
    # an IBAN account number is found among ACCOUNT keys that are IBANs too
    assert about(account_opened("FR76 3000 6000 0112 3456 7890 189"), CARRIED, None) == [IBAN]


def test_otherwise_every_identifier_it_came_through_counts() -> None:
    joint = ["EMAIL:emma@example.org", "PHONE:+33611111111"]  # the account is the other holder's
    assert about(account_opened("EDF-700001"), joint, None) == joint
    assert about(interaction([("EMAIL", "a@x.org")]), CARRIED, None) == CARRIED
    no_account = account_opened("EDF-700001")
    assert about(Event(no_account.schema, {**no_account.value, "account_number": ""}), CARRIED, None) == CARRIED


@pytest.mark.parametrize("written", ["900001", "ca900001", "CA 900 001", "CA-0900001", "ca-900001"])
def test_an_account_number_in_another_producers_spelling_is_compared_in_the_configured_format(written: str) -> None:
    """A business event a producer other than an Omnibus adapter sent with ``900001`` is about the account identity
    keys ``ACCOUNT:CA-900001`` under ``{"prefix": "CA-"}``: its entries follow a split of that account."""
    assert account_number(written, BILLING) == "CA-900001"
    assert about(account_opened(written), BILLINGS, BILLING) == ["ACCOUNT:CA-900001"]
    # the carried key in another spelling is compared the same way, and returned as carried
    assert about(account_opened("CA-900001"), [f"ACCOUNT:{written}", BILLINGS[1]], BILLING) == [f"ACCOUNT:{written}"]


def test_an_iban_and_another_systems_number_keep_their_spelling_under_the_format() -> None:
    assert about(account_opened("fr76 3000 6000 0112 3456 7890 189"), [IBAN, *BILLINGS], BILLING) == [IBAN]
    assert account_number("CB-900001", BILLING) == "CB-900001"  # another system of record's: not billing's
    assert about(account_opened("CB-900001"), BILLINGS, BILLING) == BILLINGS
