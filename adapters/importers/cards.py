"""One imported row or vCard as card fields: names split, numbers normalized, junk reported."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers

from adapters.importers import remarks
from adapters.importers.columns import Column
from adapters.importers.remarks import Remark, RemarkError
from hub.contacts.keys import normalize_email
from hub.events.contacts import Address, Phone
from hub.phone import normalize, split_extension

# Placeholders people type into cells instead of leaving them empty.
_BLANK = re.compile(r"^(n/?a|k\.?\s?a\.?|-+|\?+|keine?|none|null|unbekannt|unknown|x)$", re.I)
# Legal forms and words that mark a name as a firm's.
_FIRM = re.compile(
    r"\b(gmbh|ag|kg|ohg|gbr|ug|e\.\s?k\.?|e\.\s?v\.?|mbh|co\.|ltd|inc|praxis|kanzlei|"
    r"apotheke|autohaus|hotel|restaurant|b[äa]ckerei|metzgerei|stiftung|verein|stadtwerke)\b",
    re.I,
)
_PHONE_FIELDS = {
    "phone": "landline",
    "home_phone": "home",
    "mobile": "mobile",
    "fax": "fax",
    "switchboard": "switchboard",
}
# A quoted cell may span lines: a note keeps them, a street's become ", " ("c/o" lines).
_LINES_JOINED = {"notes": "\n", "street": ", "}
MAX_CELL = 4000  # longer cells are cut: an address book holds no novels


class RowError(RemarkError):
    """A row that cannot become a contact; the remark says why."""


@dataclass(slots=True)
class Draft:
    """Card fields collected from one row, before they become a card."""

    values: dict[str, list[str]] = field(default_factory=dict)
    private: dict[str, list[str]] = field(default_factory=dict)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (raw, label)

    def add(self, name: str, value: str, private: bool = False) -> None:
        lines = (clean(line) for line in str(value or "").splitlines())
        value = _LINES_JOINED.get(name, " ").join(filter(None, lines))
        if not value:
            return
        if name in _PHONE_FIELDS:
            self.phones.append((value, _PHONE_FIELDS[name]))
            return
        (self.private if private else self.values).setdefault(name, []).append(value)

    @classmethod
    def of(cls, columns: Iterable[Column], cells: list[str]) -> Draft:
        draft = cls()
        for column in columns:
            if column.index < len(cells):
                draft.add(column.field, cells[column.index], column.private)
        return draft


def clean(value: object) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.replace("\x00", "").split())[:MAX_CELL]
    return "" if _BLANK.match(text) else text


def build_card(
    draft: Draft, region: str = "DE", own_area_code: str | None = None
) -> tuple[dict[str, object], list[Remark]]:
    """Card fields and warnings (values left out); RowError when nothing identifies it."""
    warnings: list[Remark] = []
    v = draft.values
    given, family, company = _names(draft)
    emails = []
    for raw in _split_many(v.get("email", []) + draft.private.get("email", [])):
        normalized = normalize_email(raw)
        if normalized is None:
            warnings.append(Remark.of(remarks.NOT_AN_EMAIL, text=raw))
        elif normalized not in emails:
            emails.append(normalized)
    phones: list[Phone] = []
    for raw, label in draft.phones:
        base, _ = split_extension(raw)
        number = normalize(base, region, own_area_code)
        if number is None:
            warnings.append(Remark.of(remarks.NOT_A_PHONE, text=raw))
        elif number not in {p.number for p in phones}:
            phones.append(Phone(number=number, label=_label(number, label), raw=raw))
    if not (given or family or company or emails or phones):
        raise RowError(remarks.NOTHING_IDENTIFIES)
    card: dict[str, object] = {
        "kind": "person" if (given or family) else "company",
        "given_name": given,
        "family_name": family,
        "company": company,
        "emails": tuple(emails),
        "phones": tuple(phones),
    }
    address = _address(draft)
    if address is not None:
        card["address"] = address
    if notes := "\n".join(v.get("notes", [])):
        card["notes"] = notes
    if tags := _tags(v.get("tags", [])):
        card["tags"] = tags
    for name in ("customer_number", "owner", "language"):
        if v.get(name):
            card[name] = v[name][0]
    return card, warnings


def _label(number: str, label: str) -> str:
    """A mobile number typed into the "Telefon" column is still a mobile."""
    if label in ("landline", "home"):
        parsed = phonenumbers.parse(number)
        if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE:
            return "mobile"
    return label


def _names(draft: Draft) -> tuple[str, str, str]:
    v = draft.values
    given = " ".join(v.get("given_name", []) + draft.private.get("given_name", []))
    family = " ".join(v.get("family_name", []))
    company = " ".join(v.get("company", []))
    full = " ".join(v.get("name", []))
    if full == company:  # an address book's card of a firm: FN repeats ORG
        full = ""
    if full and not family:
        if given:
            family = full
        elif not company and _FIRM.search(full):
            company = full
        elif "," in full:  # "Schulz, Anna"
            family, _, given = (part.strip() for part in full.partition(","))
        else:
            *first, last = full.split()
            given, family = " ".join(first), last
    return given, family, company


def _address(draft: Draft) -> Address | None:
    # The business address if the row has one, else the private one.
    for source in (draft.values, draft.private):
        if any(source.get(k) for k in ("street", "postcode", "city")):
            return Address(
                street=", ".join(source.get("street", [])),
                postcode=(source.get("postcode") or [""])[0],
                city=(source.get("city") or [""])[0],
                country=(source.get("country") or [""])[0],
            )
    return None


def _split_many(values: list[str]) -> list[str]:
    return [part for value in values for part in re.split(r"[;,\s]+", value) if part]


def _tags(values: list[str]) -> tuple[str, ...]:
    tags: list[str] = []
    for part in (p.strip() for value in values for p in re.split(r"[;,]", value)):
        if part and part not in tags:
            tags.append(part)
    return tuple(tags)
