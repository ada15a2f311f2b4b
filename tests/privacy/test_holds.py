"""Retention holds: counted from the end of the year written; words pick invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hub.events import Recorded
from hub.events.base import Metadata
from hub.events.fax import FaxReceived
from hub.events.mail import Attachment, EmailReceived
from hub.privacy.holds import holds_on
from hub.settings import PrivacySection


def _recorded(event: object, n: int) -> Recorded:
    at = datetime(2020, 1, 1, tzinfo=UTC)
    return Recorded(n, f"s-{n}", 1, type(event).__name__, event, Metadata(), at)  # type: ignore[arg-type]


def test_letters_six_years_invoices_ten_from_the_end_of_the_year() -> None:
    rules = PrivacySection().holds
    letter = EmailReceived(subject="Anfrage", date=datetime(2020, 3, 1, tzinfo=UTC))
    invoice = EmailReceived(
        subject="Ihre Bestellung",
        date=datetime(2019, 5, 1, tzinfo=UTC),
        attachments=(Attachment(name="Rechnung-4711.pdf", content_type="application/pdf",
                                size=1, ref="sha256:" + "1" * 64),),
    )  # fmt: skip
    fax = FaxReceived(received_at=datetime(2018, 6, 1, tzinfo=UTC))
    records = [_recorded(e, n) for n, e in enumerate((letter, invoice, fax), 1)]
    held = {h.name: h for h in holds_on(records, rules, date(2026, 12, 7))}
    assert held["business_letters"].until == date(2026, 12, 31)  # the 2020 letter
    assert held["business_letters"].documents == 1  # 2019's and 2018's are free by now
    assert held["invoices"].until == date(2029, 12, 31) and held["invoices"].documents == 1
    assert holds_on(records, rules, date(2030, 1, 1)) == []
    assert holds_on(records, {}, date(2026, 12, 7)) == []
