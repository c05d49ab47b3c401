"""tester34 F16: TaskRouter behind a reverse proxy. Twilio signs the URL it calls (``https://cc.example.com/...``),
not the one the adapter sees behind the proxy (``http://10.0.0.5:8080/...``): without
``OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL`` every callback is refused 401 ``bad_signature`` (now counted and
logged); with it, accepted."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.state import CallCenterState
from bus.config import TopicSettings
from tests.adapters.call_center.support import LYON_TWILIO_TOKEN, call_center_settings, sample
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client
from tests.support.refusals import refused_total

PUBLIC = "https://cc.example.com"
TASKROUTER = "/v1/twilio/taskrouter"


@pytest.mark.parametrize(("public_base_url", "status"), [(PUBLIC, 204), (PUBLIC + "/", 204), (None, 401)])
async def test_a_callback_signed_for_the_public_url_passes_only_with_the_public_base_url(
    tmp_path: Path, public_base_url: str | None, status: int
) -> None:
    settings = call_center_settings(public_base_url=public_base_url)
    state = CallCenterState(tmp_path / "state.sqlite")
    publisher = StandInPublisher("call_center")
    ingress = CallCenterIngress(settings, Topics.of(TopicSettings()), publisher, state)  # type: ignore[arg-type]
    form = {**sample("taskrouter_answered.json")[-1], "Timestamp": str(int(time.time())), "Sid": "EA-proxy-1"}
    signature = RequestValidator(LYON_TWILIO_TOKEN).compute_signature(PUBLIC + TASKROUTER, form)
    before = refused_total("adapter.call_center", "bad_signature")
    async with adapter_client(ingress.app()) as client:
        response = await client.post(TASKROUTER, data=urlencode(form), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        assert response.status == status, await response.text()
        if status == 401:  # the answer names the URL the signature was checked against (tester35 F7)
            checked = str(client.make_url(TASKROUTER))
            assert f"checked against {checked}" in (await response.json())["error"]
    state.close()
    assert refused_total("adapter.call_center", "bad_signature") - before == (status == 401)
    assert len(publisher.submitted) == (status == 204)
