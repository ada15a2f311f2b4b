"""Which card field a column holds: guessed from German and English headers, or given."""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.importers.remarks import RemarkError

FIELDS = (
    "name",
    "given_name",
    "family_name",
    "company",
    "email",
    "phone",
    "mobile",
    "fax",
    "switchboard",
    "home_phone",
    "street",
    "postcode",
    "city",
    "country",
    "customer_number",
    "notes",
    "tags",
    "owner",
    "language",
    "ignore",
)

# Rules in order; the first whose pattern is found in the normalized header wins.
# Normalized: lower case, umlauts spelled out, only letters and digits.
_RULES: tuple[tuple[str, str], ...] = (
    (r"mailtyp|mailtype|angezeigtername|displayname|anrede|title|titel|suffix", "ignore"),
    (r"geburtstag|birthday|jahrestag|abteilung|department|position|jobtitle|beruf", "ignore"),
    (r"telex|tty|pager|assist|rueckruf|callback|isdn|radio|organisationsnr", "ignore"),
    (r"mail", "email"),
    (r"fax", "fax"),
    (r"mobil|handy|cell|mobile|funk", "mobile"),
    (r"telefonfirma|companymainphone|zentrale|hauptnummer|switchboard", "switchboard"),
    (r"(telefon|phone|tel).*(privat|home)|(privat|home).*(telefon|phone)", "home_phone"),
    (r"telefon|phone|^tel|rufnummer|festnetz", "phone"),
    (
        r"kundennummer|kundennr|kdnr|customernumber|customerno|customerid|kundenid",
        "customer_number",
    ),
    (r"vorname|firstname|givenname|^first$", "given_name"),
    (r"nachname|lastname|surname|familyname|familienname|^last$", "family_name"),
    (r"firma|company|unternehmen|organisation|organization|^org$|betrieb", "company"),
    (r"strasse|street|^str$|anschrift", "street"),
    (r"postleitzahl|^plz|postalcode|postcode|zip", "postcode"),
    (r"^ort|^stadt|city|wohnort|town", "city"),
    (r"^land|country", "country"),
    (r"notiz|bemerkung|notes|^note$|kommentar|anmerkung|comment|hinweis", "notes"),
    (r"kategorie|categor|^tags?$|gruppe|group|schlagwort", "tags"),
    (r"betreuer|zustaendig|owner|verantwortlich|vertreter|salesrep", "owner"),
    (r"sprache|language", "language"),
    (r"^name$|^kunde$|^kontakt$|^contact$|fullname|vollername|^kundenname$", "name"),
)
# Address columns of an Outlook export come twice; the business one is preferred.
_PRIVATE = re.compile(r"privat|home|weitere|other|andere")
_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


# What is wrong with a --mapping, as catalogue keys (hub/web/i18n.py), like the importer's
# other remarks (adapters/importers/remarks.py).
NOT_COLUMN_FIELD = "mapping '{item}': write it as COLUMN=FIELD"
UNKNOWN_FIELD = "mapping '{item}': unknown field '{field}'; known: {known}"
NOT_IN_HEADER = "mapped columns not in the header row: {columns}"
KEYS = (NOT_COLUMN_FIELD, UNKNOWN_FIELD, NOT_IN_HEADER)


class MappingError(RemarkError):
    """A column mapping that names an unknown field or a column the file does not have
    (`remark`: what, as a catalogue key; str(): in English)."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the file and the field it feeds (``private`` marks home addresses)."""

    index: int
    header: str
    field: str
    private: bool = False


def normalize_header(header: str) -> str:
    text = header.strip().lower().translate(_SPELLING)
    return re.sub(r"[^a-z0-9]", "", text)


def guess_field(header: str) -> str | None:
    """The field a header names, or None when it is not recognized."""
    key = normalize_header(header)
    if not key:
        return None
    for pattern, field in _RULES:
        if re.search(pattern, key):
            return field
    return None


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``["Kd.Nr.=customer_number", "Bemerkung=notes"]`` as {normalized header: field}."""
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, field = item.rpartition("=")
        field = field.strip()
        if not sep or not header.strip():
            raise MappingError(NOT_COLUMN_FIELD, item=item)
        if field not in FIELDS:
            raise MappingError(UNKNOWN_FIELD, item=item, field=field, known=", ".join(FIELDS))
        mapping[normalize_header(header)] = field
    return mapping


def map_columns(headers: list[str], mapping: dict[str, str] | None = None) -> list[Column]:
    """The recognized columns of a header row; an explicit mapping wins over guessing."""
    mapping = mapping or {}
    columns = []
    for index, header in enumerate(headers):
        key = normalize_header(header)
        field = mapping.get(key) or guess_field(header)
        if field and field != "ignore":
            columns.append(Column(index, header, field, bool(_PRIVATE.search(key))))
    return columns


def missing_mapped(headers: list[str], mapping: dict[str, str]) -> list[str]:
    """Mapped column names that are not in the header row."""
    present = {normalize_header(h) for h in headers}
    return [key for key in mapping if key not in present]


def header_score(cells: list[str], mapping: dict[str, str] | None = None) -> int:
    """How many cells of a row read like known headers (to find the header row)."""
    mapping = mapping or {}
    return sum(
        1 for c in cells if c and (normalize_header(c) in mapping or guess_field(c) is not None)
    )
