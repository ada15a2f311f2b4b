"""Why a customer stands where they do on the risk list, in words any reader's language
can say: the counts behind it, and the catalogue keys (hub/web/i18n.py) that say them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.web.i18n import plural, said

# Why a customer stands where they do, as catalogue keys (hub/web/i18n.py says them in the
# reader's language): the singular or the plural key, by the count.
COMPLAINTS = ("{count} complaint in {days} days", "{count} complaints in {days} days")
PRAISE = ("praised once", "praised {count} times")
Remark = tuple[str, dict[str, int]]  # a catalogue key and the values of its placeholders


@dataclass(frozen=True, slots=True)
class Reason:
    """The counts behind a customer's standing: complaints and praise within the window."""

    complaints: int
    praise: int
    days: int

    @classmethod
    def of(cls, values: Mapping[str, int] | None) -> Reason | None:
        """The reason stored as `values()` (None for rows and events from before)."""
        if not values:
            return None
        return cls(values.get("complaints", 0), values.get("praise", 0), values.get("days", 0))

    def values(self) -> dict[str, int]:
        return {"complaints": self.complaints, "praise": self.praise, "days": self.days}

    def remarks(self) -> list[Remark]:
        """The catalogue keys that say it, with their values, in order."""
        said = [
            (plural(self.complaints, *COMPLAINTS), {"count": self.complaints, "days": self.days})
        ]
        if self.praise:
            said.append((plural(self.praise, *PRAISE), {"count": self.praise}))
        return said

    def __str__(self) -> str:
        """In English: "3 complaints in 90 days, praised once"."""
        return ", ".join(key.format(**values) for key, values in self.remarks())


def remarks_of(values: Mapping[str, int] | None) -> list[Remark]:
    """A stored reason (`Reason.values()`) as catalogue keys with values; [] for none."""
    reason = Reason.of(values)
    return reason.remarks() if reason is not None else []


def reason_in(language: str, values: Mapping[str, int] | None, written: str) -> str:
    """A reason said in `language`; one stored before its counts were: as it was `written`."""
    reason = Reason.of(values)
    return said(reason.remarks(), language) if reason is not None else written
