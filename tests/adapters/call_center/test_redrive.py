"""A refused ``/v1/asterisk/cdr`` body re-mapped from its sealed copy (``adapters.call_center.redrive``) reads its CDRs
as the ingress does, by the site's columns: one whose quoted field holds a line break is one CDR, after a cut line
too; a record refused again (the cut line) publishes nothing of the body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.base.http import PATH_HEADER
from adapters.call_center import redrive
from adapters.call_center.errors import RejectedInput
from adapters.call_center.ingress_http import SITE_HEADER
from adapters.call_center.mapper import Topics
from bus.config import TopicSettings
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.call_center.test_ingress_file_cut import cdr
from tests.adapters.call_center.test_ingress_file_multiline import noted
from tests.adapters.call_center.test_ingress_http_multiline import CUT, NEW_COLUMNS

HEADERS = {PATH_HEADER: "/v1/asterisk/cdr", SITE_HEADER: "paris"}


def remapped(body: str) -> int:
    """How many events the body's CDRs re-map to, for a site with ``newcdrcolumns`` (21 columns)."""
    settings = call_center_settings(asterisk_optional_columns=NEW_COLUMNS)
    events = redrive.remapped(body.encode(), HEADERS, datetime(2026, 12, 5, tzinfo=UTC), settings,
                              Topics.of(TopicSettings()))
    return len(events)


def test_a_sealed_body_with_a_cdr_over_two_lines_re_maps_it_whole() -> None:
    assert remapped("\n".join([cdr(20), noted(21, "after\ncut"), ""])) == remapped(f"{cdr(20)}\n") * 2


def test_a_sealed_body_with_a_cut_line_is_refused_again_whole() -> None:
    with pytest.raises(RejectedInput, match="unclosed quote"):
        remapped("\n".join([CUT, noted(21, "after\ncut"), ""]))
