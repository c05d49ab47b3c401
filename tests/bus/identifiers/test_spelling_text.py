"""The identifier value rules an OpenAPI document gives are the deployment's own (tester28 F16: the branch adapter's
``/openapi.json`` said that ACCOUNT numbers "lose their spaces and are upper-cased" while the configured
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT`` made a counter's ``300001`` billing's ``EA-00300001``).

The kind: every document that takes identifier values (the web, branch adapters', the screen pop's and the offers
query's), as the deployment serves it, describes them by the normaliser's own output under the deployment's formats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bus.identifiers import IdentifierSettings
from bus.identifiers.account import normalise_account
from bus.identifiers.customer_number import normalise_customer_number
from bus.identifiers.number_format import NumberFormat
from bus.identifiers.spelling_text import VALUE_RULES, value_description

UTILITY = IdentifierSettings(account_number_format=NumberFormat(prefix="EA-", width=8),
                             customer_number_format=NumberFormat(prefix="K"))


def _documents() -> dict[str, Callable[[IdentifierSettings], dict[str, Any]]]:
    from adapters.branch.openapi import openapi as branch
    from adapters.web.openapi import openapi as web
    from processors.identity.openapi import openapi as identity
    from processors.offers.openapi import openapi as offers

    return {"branch": branch, "web": web, "identity": lambda ids: identity(identifiers=ids), "offers": offers}


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def test_the_reported_account_format_is_described_as_the_normaliser_writes_it() -> None:
    text = value_description(UTILITY)
    assert normalise_account("300001", UTILITY.account_number_format) == "EA-00300001"
    assert "300001 becomes EA-00300001" in text and "OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT" in text
    assert "prefix 'EA-', digits zero-padded to 8" in text
    assert normalise_customer_number("770002", UTILITY.customer_number_format) == "K770002"
    assert "770002 becomes K770002" in text


def test_without_a_format_the_numbers_lose_only_their_spaces_and_no_example_is_given() -> None:
    text = value_description(IdentifierSettings())
    assert "becomes" not in text and "FORMAT" not in text
    assert "account number loses its spaces and is upper-cased (dashes and dots are kept)" in text


def test_a_format_whose_pattern_does_not_take_the_example_gives_no_example_but_its_pattern() -> None:
    own = IdentifierSettings(account_number_format=NumberFormat(pattern="(?P<number>9[0-9]{5})", prefix="CA-"))
    text = value_description(own)
    assert "the number matching (?P<number>9[0-9]{5})" in text and "300001 becomes" not in text


@pytest.mark.parametrize("name", ["branch", "web", "identity", "offers"])
def test_every_document_that_takes_identifier_values_describes_the_deployments_formats(name: str) -> None:
    document = _documents()[name](UTILITY)
    texts = list(_texts(document))
    assert not any(VALUE_RULES in text for text in texts), "a marker left unwritten"
    assert any("300001 becomes EA-00300001" in text for text in texts), name
    assert not any("lose their spaces and are upper-cased" in text for text in texts)
    plain = json.dumps(_documents()[name](IdentifierSettings()))
    assert "EA-00300001" not in plain and "loses its spaces and is upper-cased" in plain


async def test_the_branch_adapter_serves_the_document_of_its_own_settings() -> None:
    """The reported endpoint: ``GET /openapi.json`` of a branch adapter whose deployment sets the account format."""
    from adapters.branch.ingress import BranchIngress
    from adapters.branch.mapper import CounterMapper
    from bus.config import TopicSettings
    from tests.adapters.branch.support import branch_settings
    from tests.adapters.web.support import StandInPublisher
    from tests.support.http import adapter_client

    settings = branch_settings()
    ingress = BranchIngress(settings, StandInPublisher(), CounterMapper(settings, TopicSettings(), UTILITY))  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as client:
        served = await (await client.get("/openapi.json")).json()
    schema = served["paths"]["/v1/counter/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    value = schema["properties"]["events"]["items"]["properties"]["identifiers"]["items"]["properties"]["value"]
    assert "300001 becomes EA-00300001" in value["description"]


@pytest.mark.parametrize("command", [["adapter", "branch", "openapi"], ["adapter", "web", "openapi"],
                                     ["identity", "openapi"], ["offers", "openapi"]])
def test_each_openapi_command_prints_the_document_of_the_deployments_settings(command: list[str]) -> None:
    from typer.testing import CliRunner

    from omnibus.cli import app

    result = CliRunner().invoke(app, command, env={
        "OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT": '{"prefix": "EA-", "width": 8}'})
    assert result.exit_code == 0, result.output
    assert "300001 becomes EA-00300001" in result.stdout
