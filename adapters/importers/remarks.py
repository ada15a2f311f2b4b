"""What the import says about a row or a file, as catalogue keys: English text with
{placeholders} and the values for them. The web translates the key (hub/web/i18n.py);
the command line prints the English text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Rows that cannot be imported.
SHORT_ROW = (
    "only {found} of the header's {expected} fields; not imported "
    "(check the row's separators and quotes)"
)
LONG_ROW = (
    "{found} fields, the header has {expected}; not imported "
    "(a separator inside a cell needs quotes)"
)
NOTHING_IDENTIFIES = "no name, company, email or phone number"
UNREADABLE_VCARD = "unreadable vCard: {detail}"
CHANGED_MEANWHILE = "the contact changed during the import; import again"
# Values left out of a row that is imported.
NOT_AN_EMAIL = "email '{text}' is not an address; left out"
NOT_A_PHONE = "phone '{text}' is not a phone number; left out"
# Duplicates: why a row is one, merged into or reported as the contact {name}.
IMPORTED_BEFORE = "imported before"
SAME_EMAIL = "same email {email} as {name}"
SAME_PHONE = "same phone {number} as {name}"
SIMILAR_NAME = "similar name at {company} as {name}"
SAME_EMAIL_NOTHING_NEW = "same email {email}: nothing new"
SAME_PHONE_NOTHING_NEW = "same phone {number}: nothing new"
SIMILAR_NAME_NOTHING_NEW = "similar name at {company}: nothing new"
# Files that cannot be imported at all.
EMPTY_FILE = "the file is empty"
NO_ROWS = "the file has no rows"
NO_HEADER = (
    "no header row found (expected columns like Name, Vorname, Firma, E-Mail, Telefon); "
    "name the columns with --mapping COLUMN=FIELD"
)
UNREADABLE_CSV = "line {line}: unreadable CSV ({detail})"
UNREADABLE_XLSX = "not a readable .xlsx workbook: {detail}"
TOO_MANY_ROWS = "more than {count} rows; split the file"
TOO_LARGE = "{size} bytes; files over {limit} bytes are refused"
NOT_VCARD = "no BEGIN:VCARD found; not a vCard file"

KEYS = tuple(value for name, value in dict(globals()).items() if name.isupper())


@dataclass(frozen=True, slots=True)
class Remark:
    """A remark on a row or file: a catalogue key and the values of its placeholders."""

    key: str
    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, **values: object) -> Remark:
        return cls(key, {name: str(value) for name, value in values.items()})

    def __str__(self) -> str:
        return self.key.format(**self.values)


class RemarkError(ValueError):
    """An error whose message is a remark (the web shows it translated)."""

    def __init__(self, key: str, **values: object) -> None:
        self.remark = Remark.of(key, **values)
        super().__init__(str(self.remark))
