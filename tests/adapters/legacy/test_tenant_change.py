"""Tester33 F3 point 2: a CIS export listing each contract account's current holder (``current_holder: true``) makes a
new holder's national ID on the account's line a tenant change, without a closures file.

The tester's ``contas.yaml`` with the option: night 1 (Maria on ``000700123456``, the bakery), night 2 (João on the
same account, changed 02/12; the bakery unchanged). Night 2 publishes, before João's line, an ``AccountClosed`` of the
account naming Maria, dated just before João's move-in; identity then gives João the account, installation and
landline (the events fed to the identity harness). A joint account (two lines of one account), the first night, a
re-import and an undated layout publish no closure; the option is validated.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import LegacyContext
from adapters.legacy.tenant_change import REASON
from tests.adapters.legacy.test_ingress_batch import _Publisher
from tests.processors.identity.graph.test_tenant_change import IDENTIFIERS, outcome, run

CLOSED = "omnibus.business.AccountClosed"
CONTAS = {  # the tester's br/contas.yaml, with the option
    "name": "contas-contrato", "format": "csv", "event": "AccountOpened", "delimiter": ";",
    "key": ["account_number"], "phone_region": "BR", "occurred_at": "data_evento", "current_holder": True,
    "fields": {"account_number": {"column": "CONTA_CONTRATO"}, "account_type": {"value": "energia-eletrica"},
               "service_tier": {"column": "CLASSE"}, "supply_point": {"column": "INSTALACAO"},
               "national_id": {"column": "CPF_CNPJ"}, "given_name": {"column": "NOME"},
               "family_name": {"column": "SOBRENOME"}, "mobile": {"column": "CELULAR"},
               "landline": {"column": "TELEFONE"}, "email": {"column": "EMAIL"},
               "data_evento": {"column": "DATA_ALTERACAO", "type": "date", "format": "%d/%m/%Y"}},
}
HEADER = "CONTA_CONTRATO;INSTALACAO;CPF_CNPJ;NOME;SOBRENOME;CELULAR;TELEFONE;EMAIL;CLASSE;DATA_ALTERACAO"
MARIA = ("000700123456;3000123456;526.018.159-06;Maria;da Silva;(11) 98765-4321;(11) 3456-7890;"
         "maria.silva@exemplo.com.br;residencial;10/03/2019")
JOAO = ("000700123456;3000123456;186.091.390-34;João;Conceição;(11) 91234-5678;(11) 3456-7890;"
        "joao.conceicao@exemplo.com.br;residencial;02/12/2026")
BAKERY = ("000700999001;3000999001;75.749.118/0001-16;Padaria Pão Quente;Ltda;(11) 99911-2233;(11) 2222-3333;"
          "contato@paoquente.com.br;comercial;05/05/2020")


def _importer(tmp_path: Path, publisher: Any) -> BatchImporter:
    ctx = LegacyContext("cis", "business.events.v1", identity_topic="identity.observed.v1", phone_region="BR",
                        identifiers=IDENTIFIERS)
    return BatchImporter(ctx, publisher, tmp_path / "state", chunk_lines=2)  # type: ignore[arg-type]


def _night(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _closed(publisher: Any) -> list[dict[str, Any]]:
    return [out.event.value for out in publisher.events if out.event.schema == CLOSED]


async def _nights(tmp_path: Path, layout: dict[str, Any], *nights: tuple[str, ...]) -> _Publisher:
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    for number, rows in enumerate(nights, 1):
        await importer.import_file(_night(tmp_path, f"contas_{number}.csv", *rows), Layout.model_validate(layout))
    return publisher


async def test_a_new_holders_line_publishes_the_previous_holders_closure_first(tmp_path: Path) -> None:
    publisher = await _nights(tmp_path, CONTAS, (MARIA, BAKERY), (JOAO, BAKERY))
    (closed,) = _closed(publisher)
    schemas = [out.event.schema for out in publisher.events]
    assert schemas.index(CLOSED) < max(i for i, schema in enumerate(schemas) if schema.endswith("AccountOpened"))
    maria = next(item["value"] for out in publisher.events for item in out.event.value.get("customer_identifiers")
                 or () if item["type"] == "NATIONAL_ID")
    assert (closed["account_number"], closed["reason"]) == ("000700123456", REASON)
    assert {item["type"]: item["value"] for item in closed["customer_identifiers"]}["NATIONAL_ID"] == maria
    assert closed["envelope"]["occurred_at"] == datetime(2026, 12, 1, 23, 59, 59, 999999, tzinfo=UTC)
    # what identity makes of it, without a closures file: the account, installation and landline are João's
    found = outcome(run([(out.event, out.topic) for out in publisher.events]))
    assert {key: found[key] for key in ("people", "ACCOUNT", "SUPPLY_POINT", "PHONE", "maria-mobile", "joao-mobile")
            } == {"people": 2, "ACCOUNT": "joao", "SUPPLY_POINT": "joao", "PHONE": "joao", "maria-mobile": "maria",
                  "joao-mobile": "joao"}, found


async def test_a_reimport_and_the_next_night_publish_no_second_closure(tmp_path: Path) -> None:
    publisher = await _nights(tmp_path, CONTAS, (MARIA,), (JOAO,), (JOAO, BAKERY))
    assert len(_closed(publisher)) == 1


@pytest.mark.parametrize("nights", [((MARIA, JOAO),), ((MARIA, JOAO), (MARIA, JOAO)), ((MARIA, JOAO), (JOAO,)),
                                    ((MARIA,),)], ids=["one-file", "joint-every-night", "joint-then-one", "first"])
async def test_a_joint_account_or_a_first_file_closes_nothing(tmp_path: Path, nights: tuple[tuple[str, ...], ...]
                                                              ) -> None:
    """Two holders' lines of one account (in one file, or named by the previous file), and the first file of a
    layout: the joint-account rule, no closure."""
    assert not _closed(await _nights(tmp_path, CONTAS, *nights))


async def test_without_the_option_nothing_is_closed(tmp_path: Path) -> None:
    assert not _closed(await _nights(tmp_path, {**CONTAS, "current_holder": False}, (MARIA,), (JOAO,)))


@pytest.mark.parametrize("change", [{"event": "ProductSubscribed"}, {"key": ["account_number", "national_id"]},
                                    {"occurred_at": None}])
def test_only_a_dated_account_layout_keyed_by_the_account_can_name_its_current_holder(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="current_holder: a tenant change is read from a dated line"):
        Layout.model_validate({**CONTAS, **change})

