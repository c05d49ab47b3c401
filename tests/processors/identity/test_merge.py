"""``omnibus identity merge``: what it refuses before publishing, and which identifiers its saga looks up."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from processors.identity.merge import MergeRefused, merge_plan
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import settings

POLICY = LinkPolicy(settings())
OWNERS = {"ACCOUNT:A-1": "cus_a", "EMAIL:ann@x.org": "cus_a", "NATIONAL_ID:t-ann": "cus_a",
          "EMAIL:ann@y.org": "cus_b", "NATIONAL_ID:t-bob": "cus_c", "ACCOUNT:C-1": "cus_c"}


def test_a_merge_looks_up_each_customers_highest_priority_identifier_and_follows_merges() -> None:
    assert merge_plan("cus_a", "cus_b", OWNERS, {}, POLICY) == ("cus_a", "cus_b", ["NATIONAL_ID:t-ann",
                                                                                  "EMAIL:ann@y.org"])
    # cus_old merged into cus_b before: the merge names the customer it is now.
    assert merge_plan("cus_old", "cus_a", OWNERS, {"cus_old": "cus_b"}, POLICY)[:2] == ("cus_b", "cus_a")


@pytest.mark.parametrize(("first", "second", "says"), [
    ("cus_nobody", "cus_a", "no current customer cus_nobody holds"),
    ("cus_old", "cus_a", "cus_old (merged into cus_gone)"),
    ("cus_b", "cus_old_b", "one customer already (cus_b)"),
    ("cus_a", "cus_c", "two different NATIONAL_ID identifiers"),
])
def test_a_merge_is_refused_with_one_clear_line(first: str, second: str, says: str) -> None:
    survivors = {"cus_old": "cus_gone", "cus_old_b": "cus_b"}
    with pytest.raises(MergeRefused) as refused:
        merge_plan(first, second, OWNERS, survivors, POLICY)
    assert says in str(refused.value) and "@" not in str(refused.value) and "t-ann" not in str(refused.value)


@pytest.mark.parametrize(("args", "says"), [
    (["cus_a", "cus_b", "--reason", "one person"], "Missing option '--by'"),
    (["cus_a", "cus_b", "--by", "ops-3", "--reason", " "], "--reason must not be empty"),
    (["cus_a", "--by", "ops-3", "--reason", "one person"], "Missing argument"),
])
def test_merge_refuses_without_two_customers_who_and_why_before_reading_any_topic(args: list[str],
                                                                                  says: str) -> None:
    result = CliRunner().invoke(omnibus, ["identity", "merge", *args])
    assert result.exit_code == 2 and says in result.output, result.output
