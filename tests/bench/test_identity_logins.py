from tests.bench.identity_logins import run


def test_logins_with_the_registered_email_join_their_own_record_and_no_other() -> None:
    for order in ("lines-first", "logins-first", "interleaved", "login-then-line"):
        result = run(300, 8, order, login_level=True)
        assert "ANOTHER person's record" not in result["outcome"]
        assert result["outcome"]["own record"] == result["people"] - result["shared_mailbox"] > 0
        if order == "login-then-line":
            # the holder's login joined first, left when the housemate's line came (a review); the housemate's login,
            # arriving in between, met the holder's user id: refused by the limit of one login, no review
            assert 0 < result["reviews"] < result["shared_mailbox"]
        elif order == "logins-first":
            # the earlier login of a household is reviewed once with a record; the later one, refused beside it by the
            # limit of one login with no record there, with none (test_household_email.py's strict xfail). Before, the
            # earlier one was reviewed with each record (as many reviews as the mailbox's people, none for the later)
            assert 0 < result["reviews"] < result["shared_mailbox"]
        else:
            assert result["reviews"] == result["shared_mailbox"]  # a household's mailbox: either could be logging in
    without = run(300, 8, "lines-first", login_level=False)
    assert without["outcome"] == {"apart": 300, "apart, shared mailbox": without["shared_mailbox"]}
