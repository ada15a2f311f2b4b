"""Retention holds: documents the firm must keep (e.g. business letters 6 years, invoices
10 years, counted from the end of the year they were written in: § 257 HGB, § 147 AO)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hub.events import Recorded
from hub.events.fax import FaxReceived
from hub.events.mail import EmailReceived, EmailSent
from hub.settings import RetentionHold


@dataclass(frozen=True, slots=True)
class Hold:
    """A hold that keeps some of a person's documents until `until`."""

    name: str
    years: int
    documents: int
    until: date


def _document(r: Recorded) -> tuple[str, datetime, str] | None:
    """(kind, when written, the words a hold looks for) of a held kind of document."""
    e = r.event
    if isinstance(e, EmailReceived | EmailSent):
        words = " ".join([e.subject, *(a.name for a in e.attachments)])
        return "email", e.date or r.recorded_at, words
    if isinstance(e, FaxReceived):
        return "fax", e.received_at or r.recorded_at, f"{e.subject} {e.document_name}"
    return None


def holds_on(
    records: Iterable[Recorded], rules: Mapping[str, RetentionHold], today: date
) -> list[Hold]:
    """The holds that still keep some of these documents today."""
    found: dict[str, tuple[int, date]] = {}
    for r in records:
        document = _document(r)
        if document is None:
            continue
        kind, written, text = document
        folded = text.casefold()
        for name, rule in rules.items():
            if kind not in rule.kinds or rule.years <= 0:
                continue
            if rule.words and not any(w.casefold() in folded for w in rule.words):
                continue
            until = date(written.year + rule.years, 12, 31)
            if until >= today:
                count, last = found.get(name, (0, until))
                found[name] = (count + 1, max(last, until))
    return [Hold(n, rules[n].years, c, u) for n, (c, u) in sorted(found.items())]
