"""The demo's printed output fits an 80-column terminal (new-user sample: the offer table truncated there and the
"Still running" box wrapped its addresses): demo/offers.py ``offer_table``, demo/report.py ``keep_running``."""

from __future__ import annotations

import dataclasses
import io
import os
import shlex
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.console import Console

from bus.config import OmnibusSettings, load_settings
from demo import report
from demo.offers import OFFER_CHANNELS, WITHDRAWN, offer_table
from demo.services import SITE_KEY, TERMINAL_TOKEN, WRITE_KEY, Endpoints, demo_timezone
from tests.support.ports import refused_url

BOX = "│╭╮╰╯┃┏┓┗┛"


def rendered(draw: object, width: int = 80) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    draw(console)  # type: ignore[operator]
    return out.getvalue().splitlines()


def test_the_offer_table_fits_80_columns_whole() -> None:
    published = ["fibre-upgrade", "fibre-upgrade", "SHOW", "fibre-upgrade"]
    after = [WITHDRAWN, WITHDRAWN, "WITHDRAW after 12.34 s", WITHDRAWN]
    lines = rendered(lambda console: console.print(offer_table("Ines Nguyen", published, after)))
    text = "\n".join(lines)
    assert all(len(line) <= 80 for line in lines) and "…" not in text
    for channel, shown in zip(OFFER_CHANNELS, published, strict=True):
        assert any(channel in line and shown in line for line in lines), channel
    assert any("call center (instructions)" in line and "SHOW" in line and "WITHDRAW after 12.34 s" in line
               for line in lines)
    assert "accepted on the web" in text
    assert "(none)" not in text and text.count("withdrawn") == 3  # new-user finding #13: "(none)" meant withdrawn


SHOWN = "cus_661a545ecfdda3b811d474f4"  # the customer whose screen pop the demo showed: ``run._with_stack`` passes it


def _endpoints() -> Endpoints:
    ports = iter(range(40001, 40010))
    base = "http://127.0.0.1:{}".format
    return Endpoints(web=base(next(ports)), branch=base(next(ports)), call_center=base(next(ports)),
                     screen_pop=base(next(ports)), batch=None, offers=base(next(ports)),  # type: ignore[arg-type]
                     kpis=base(next(ports)), metrics=f"{base(next(ports))}/metrics")


def test_still_running_prints_every_address_and_key_whole_within_80_columns_outside_any_box() -> None:
    endpoints = _endpoints()
    lines = rendered(lambda console: report.keep_running(console, endpoints, OmnibusSettings(), shown=SHOWN))
    still = lines[:lines.index(next(line for line in lines if line.startswith("Post by hand")))]
    assert any("Still running" in line for line in still)
    assert all(len(line) <= 80 for line in still), [line for line in still if len(line) > 80]
    assert not any(mark in line for line in still for mark in BOX)
    for whole in (endpoints.web, endpoints.branch, endpoints.call_center, WRITE_KEY, TERMINAL_TOKEN, SITE_KEY,
                  f"{endpoints.screen_pop}/customers/{SHOWN}",
                  f"{endpoints.kpis}/kpis?granularity=DAY", endpoints.metrics):
        assert any(whole in line for line in still), whole


def test_the_demo_reads_numbers_without_a_country_as_french_unless_the_environment_says_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A new user posted 0612345678 to the demo's web hall: success, and no phone on the screen pop (no region)."""
    from demo.run import demo_settings

    state = {"kafka": {"bootstrap_servers": "127.0.0.1:9"}}
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__DEFAULT_REGION", raising=False)
    settings = demo_settings(state, metrics_port=0)
    assert settings.identifiers.default_region == "FR"
    lines = rendered(lambda console: report.keep_running(console, _endpoints(), settings, shown=SHOWN))
    assert any("phone region" in line and "FR" in line for line in lines)
    assert "export OMNIBUS_IDENTIFIERS__DEFAULT_REGION=FR" in lines
    # The demo's people carry resident IDs, and a French NIR is accepted too (new-user finding #7); exported as JSON
    assert settings.identifiers.national_id_schemes == ("fr.nir", "cn.ric")
    assert """export OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES='["fr.nir", "cn.ric"]'""" in lines
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__DEFAULT_REGION", "BE")
    assert demo_settings(state, metrics_port=0).identifiers.default_region == "BE"
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES", '["be.nn"]')
    assert demo_settings(state, metrics_port=0).identifiers.national_id_schemes == ("be.nn",)


def test_the_screen_pop_table_shows_every_identifier_whole_at_80_columns() -> None:
    profile = {
        "customer_id": "cus_66176f375d9be8a1650b3d33",
        "identifiers": [{"type": "ACCOUNT", "value": "****0000"}, {"type": "EMAIL", "value": "f***@example.com"},
                        {"type": "NATIONAL_ID", "value": "nid1:…57e4"}, {"type": "PHONE", "value": "+33*****5279"},
                        {"type": "USER_ID", "value": "u-01*****"}],
        "products": {"products": [{"product_name": "Mobile 5G 50 GB"}]},
        "recent_contacts": [{"channel": "WEB", "occurred_at": "2026-11-30T06:34:27.655440+00:00",
                             "kind": "WEB_EVENT", "name": "Offer Accepted"}],
        "open_handoffs": [{"case_type": "billing-dispute", "team": "finance", "owner_id": None, "status": "OPEN",
                           "deadline_at": "2026-11-30T12:41:32.032782+00:00"}],
    }
    lines = rendered(lambda console: console.print(report.screen_pop_table("Fatou Okafor", profile)))
    text = "\n".join(lines)
    assert all(len(line) <= 80 for line in lines)
    for identifier in profile["identifiers"]:
        assert any(f"{identifier['type']} {identifier['value']}" in line for line in lines), identifier
    # a contact time says its zone as the due date does: read without it, as local, beside a due date marked UTC
    assert "cus_66176f375d9be8a1650b3d33" in text and "2026-11-30 06:34:27 UTC WEB_EVENT Offer Accepted" in text
    assert any("due 2026-11-30 12:41:32 UTC" in line for line in lines)  # new-user finding #13: not the raw instant
    assert "032782" not in text and "+00:00" not in text


def test_the_topic_table_says_why_the_review_count_is_not_the_open_reviews() -> None:
    """tester7 #20: ``omnibus.identity.reviews.v1 │ 10`` in the demo, then ``0 open review(s)`` from the CLI."""
    settings = OmnibusSettings()
    reviews = f"{settings.topics.prefix}.identity.reviews.v1"
    lines = rendered(lambda console: console.print(report.topics_table([(reviews, 10)], settings)))
    text = " ".join(line.strip() for line in lines)
    assert "review list" in text and "still open" in text and "10" in text
    assert all(len(line) <= 80 for line in lines)


def test_the_demos_offers_zone_is_its_phone_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester16 N4: the demo read numbers as French and placed customers of unknown country in UTC."""
    monkeypatch.delenv("OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE", raising=False)
    assert demo_timezone(load_settings(identifiers={"default_region": "FR"})) == "Europe/Paris"
    assert demo_timezone(load_settings(identifiers={"default_region": "US"})) == "UTC"  # several zones
    monkeypatch.setenv("OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE", "Europe/Brussels")
    assert demo_timezone(load_settings(identifiers={"default_region": "FR"})) == "Europe/Brussels"


def test_still_running_says_the_demo_has_no_quiet_hours_and_how_a_script_stops_it() -> None:
    """tester19 F13: offers at 01:45 Paris and no word of the demo's policy; F22: a script's background job ignores
    SIGINT, so the banner names SIGTERM and this process's pid."""
    lines = rendered(lambda console: report.keep_running(console, _endpoints(), OmnibusSettings(), shown=SHOWN))
    assert any("quiet hours" in line and "off" in line for line in lines)
    assert any(f"kill -TERM {os.getpid()}" in line for line in lines)


def test_tester21_f1_the_printed_exports_point_identity_pop_at_the_demos_screen_pop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Sourcing the printed ``export`` lines left ``omnibus identity pop`` asking port 6066 (its default): no worker."""
    from typer.testing import CliRunner

    from omnibus.cli import app as omnibus

    with refused_url() as nothing_there:
        endpoints = dataclasses.replace(_endpoints(), screen_pop=nothing_there)
        lines = rendered(lambda console: report.keep_running(console, endpoints, OmnibusSettings(), shown=SHOWN))
        for line in lines:
            if line.startswith("export "):
                name, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
                monkeypatch.setenv(name, value)
        result = CliRunner().invoke(omnibus, ["identity", "pop", "EMAIL", "u-1@example.org", "--timeout", "2"])
    assert result.exit_code == 69, result.output
    assert f"no identity worker answered at {endpoints.screen_pop}/customers/lookup" in result.output, result.output


def test_f2_the_screen_pop_table_marks_a_cancelled_product_with_its_date() -> None:
    assert report.product_line({"product_name": "Mobile 5G 50 GB", "status": "ACTIVE", "closed_at": None}) == (
        "Mobile 5G 50 GB")
    assert report.product_line({"product_code": "TV-BASIC", "status": "CANCELLED",
                                "closed_at": "2026-11-30T12:41:32.032782+00:00"}) == "TV-BASIC (cancelled 2026-11-30)"


def test_tester24_f4_the_demo_spells_customer_numbers_as_billing_and_exports_it_for_an_import(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """F4: a keypad's 770002 and a billing export's C-770002 were two customers on the demo's stack; the demo sets
    billing's format, prints it, and exports it for an import-batch run in another shell. The environment wins."""
    from demo.run import demo_settings

    state = {"kafka": {"bootstrap_servers": "127.0.0.1:9"}}
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT", raising=False)
    settings = demo_settings(state, metrics_port=0)
    found = settings.identifiers.customer_number_format
    assert found is not None and found.prefix == "C-"
    lines = rendered(lambda console: report.keep_running(console, _endpoints(), settings, shown=SHOWN))
    assert """export OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT='{"prefix": "C-"}'""" in lines
    assert any("customer numbers" in line and "770002 is C-770002" in line for line in lines)
    assert any("VERIFIED_RECORD_ATTRIBUTES" in line for line in lines)
    assert any("the demo's IVR checks the date of birth: ACCOUNT accountNumber" in line for line in lines)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT", '{"prefix": "CU", "width": 8}')
    assert demo_settings(state, metrics_port=0).identifiers.customer_number_format.prefix == "CU"  # type: ignore[union-attr]
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT")
    plain = rendered(lambda console: report.keep_running(console, _endpoints(), OmnibusSettings(), shown=SHOWN))
    assert not any("CUSTOMER_NUMBER_FORMAT=" in line for line in plain)


def test_tester27_f7_the_banners_screen_pop_url_is_the_customer_the_demo_showed() -> None:
    """The banner's lookup URL named ``u-1@example.org``, whom nothing had posted: 404. It names the customer whose
    screen pop the demo showed, by id; with none shown it says so and names no one."""
    endpoints = _endpoints()
    for shown in (SHOWN, None):
        lines = rendered(lambda console, shown=shown: report.keep_running(console, endpoints, OmnibusSettings(),
                                                                          shown=shown))
        still = lines[:lines.index(next(line for line in lines if line.startswith("Post by hand")))]
        urls = [line.strip() for line in still if line.strip().startswith(f"{endpoints.screen_pop}/customers/")]
        if shown:
            assert urls[0] == f"{endpoints.screen_pop}/customers/{SHOWN}", urls
        else:
            assert any("no customer was shown" in line for line in still)
        assert all(url.endswith(("/lookup?type=EMAIL&value=...", f"/customers/{SHOWN}")) for url in urls), urls
        assert not any("u-1@example.org" in line for line in still)


def test_the_demo_asks_the_screen_pop_of_its_customer_by_the_lookup_url() -> None:
    url = urlsplit(report.lookup_url(_endpoints(), "fatou.okafor0@example.com"))
    assert url.path == "/customers/lookup"
    assert parse_qs(url.query) == {"type": ["EMAIL"], "value": ["fatou.okafor0@example.com"]}


def test_the_demo_seals_its_refusals_with_a_throw_away_key_and_exports_it_unless_the_environment_gives_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its four adapters each warned at start that refused input cannot be re-driven (no seal key), a warning a demo
    user cannot act on; its own refused identify could not be re-driven with --keep-running."""
    from demo.run import DEMO_SEAL_KEY, demo_settings

    state = {"kafka": {"bootstrap_servers": "127.0.0.1:9"}}
    monkeypatch.delenv("OMNIBUS_DEAD_LETTERS__SEAL_KEY", raising=False)
    settings = demo_settings(state, metrics_port=0)
    assert settings.dead_letters.seal_key is not None and settings.dead_letters.seal_key.get_secret_value() == DEMO_SEAL_KEY
    lines = rendered(lambda console: report.keep_running(console, _endpoints(), settings, shown=SHOWN))
    assert f"export OMNIBUS_DEAD_LETTERS__SEAL_KEY={DEMO_SEAL_KEY}" in lines
    own = "an-operator-s-own-seal-key-of-40-characters"
    monkeypatch.setenv("OMNIBUS_DEAD_LETTERS__SEAL_KEY", own)
    assert demo_settings(state, metrics_port=0).dead_letters.seal_key.get_secret_value() == own  # type: ignore[union-attr]
