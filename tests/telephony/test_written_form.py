"""Numbers on the screen as German offices write them (DIN 5008), never raw E.164."""

from __future__ import annotations

import pytest

from hub.phone import written_form


@pytest.mark.parametrize(
    ("number", "region", "shown"),
    [
        ("+4930123456", "DE", "030 123456"),
        ("+491708603172", "DE", "0170 8603172"),
        ("+43123456789", "DE", "+43 1 23456789"),  # abroad: the code, then its own grouping
        ("+4930123456", "AT", "+49 30 123456"),
        ("+4930", "DE", "+4930"),  # no such number: shown as sent, not regrouped
        ("anonymous", "DE", "anonymous"),
        (None, "DE", ""),
    ],
)
def test_written_form(number: str | None, region: str, shown: str) -> None:
    assert written_form(number, region) == shown
