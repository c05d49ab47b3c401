from bus.serde import Event
from processors.profile.about import about
from tests.processors.identity.support import account_opened, interaction

IBAN = "ACCOUNT:FR7630006000011234567890189"
CARRIED = ["ACCOUNT:EDF-700001", IBAN, "EMAIL:robert.durand@example.org", "PHONE:+33145000011"]


def test_a_business_event_is_about_its_account_when_it_came_through_it() -> None:
    assert about(account_opened("EDF-700001"), CARRIED) == ["ACCOUNT:EDF-700001"]
    assert about(account_opened("edf-700001"), CARRIED) == ["ACCOUNT:EDF-700001"]  # compared in its normal form
    # an IBAN account number is found among ACCOUNT keys that are IBANs too
    assert about(account_opened("FR76 3000 6000 0112 3456 7890 189"), CARRIED) == [IBAN]


def test_otherwise_every_identifier_it_came_through_counts() -> None:
    joint = ["EMAIL:emma@example.org", "PHONE:+33611111111"]  # the account is the other holder's
    assert about(account_opened("EDF-700001"), joint) == joint
    assert about(interaction([("EMAIL", "a@x.org")]), CARRIED) == CARRIED
    no_account = account_opened("EDF-700001")
    assert about(Event(no_account.schema, {**no_account.value, "account_number": ""}), CARRIED) == CARRIED
