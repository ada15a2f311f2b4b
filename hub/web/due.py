"""A due date as typed into a form: a day ("2026-12-10", the date field) or a moment."""

from __future__ import annotations

from datetime import date, datetime, tzinfo


def parse_due(text: str, tz: tzinfo) -> tuple[datetime | None, date | None]:
    """(moment, None) for a date with a time of day (in `tz` unless it names its own
    offset), (None, day) for a bare day, (None, None) for nothing or what is no date."""
    text = text.strip()[:40]
    if not text:
        return None, None
    try:
        return None, date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)), None
