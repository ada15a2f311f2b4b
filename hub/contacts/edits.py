"""What a submitted card form says: the card fields of a new contact, and for an edit only
the fields the user changed. Pure: text in, card fields out.

An edit compares each field's submitted text with the text the form showed for the card
(`shown`), not with a re-parsed value: a number's written form, its label, upper case in
an address or a line break in the notes are not "changed" just by passing through a form.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest

import phonenumbers

from hub.contacts.decisions import ContactError
from hub.contacts.keys import normalize_email
from hub.contacts.model import Contact
from hub.events.contacts import PHONE_LABELS, Phone
from hub.phone import normalize, written_form

TEXT_FIELDS = ("given_name", "family_name", "company", "customer_number", "emails", "notes")
MAX_TEXT = 2000  # a name, firm or customer number
MAX_NOTES = 20_000  # imported notes can be long; an edit must not cut them
MAX_PHONES = 20
MAX_EMAILS = 20
_NUMBERS = re.compile(r"[,;\n]+")  # one row may hold several numbers (an older form did)
_ADDRESSES = re.compile(r"[\s,;]+")

Row = tuple[str, str]  # (the number as written, its label; "" when the form sent none)


class FormError(ContactError):
    """A form value that cannot go on a card; `key` is a catalogue text with {placeholders}."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key.format(**values))
        self.key, self.values = key, values


@dataclass(frozen=True, slots=True)
class CardForm:
    """A card form's values: its text fields and its phone rows (None: no phone fields)."""

    texts: Mapping[str, str]
    phones: tuple[Row, ...] | None = None


def written(phone: Phone) -> str:
    """A number as the form shows it: as it was typed, else as people write it."""
    return phone.raw or written_form(phone.number)


def shown(contact: Contact) -> CardForm:
    """The form's values for a card (what an unchanged submit sends back)."""
    texts = {
        "given_name": contact.given_name,
        "family_name": contact.family_name,
        "company": contact.company,
        "customer_number": contact.customer_number or "",
        "emails": ", ".join(contact.emails),
        "notes": contact.notes,
    }
    return CardForm(
        {k: _text(v) for k, v in texts.items()},
        tuple((written(p), p.label) for p in contact.phones),
    )


def submitted(fields: Mapping[str, Sequence[str]]) -> CardForm:
    """A submitted form (each name with its values, as the browser sent them)."""
    texts = {name: _text(fields[name][0]) for name in (*TEXT_FIELDS, "kind") if fields.get(name)}
    if "phones" not in fields:
        return CardForm(texts)
    rows = zip_longest(fields["phones"], fields.get("phone_labels", ()), fillvalue="")
    return CardForm(texts, tuple((_text(n), _text(label)) for n, label in rows))


def changes(
    contact: Contact, form: CardForm, region: str = "DE", own_area_code: str | None = None
) -> dict[str, object]:
    """The fields whose text the user changed, as card values."""
    before = shown(contact)
    texts = {k: v for k, v in form.texts.items() if before.texts.get(k) != v}
    if texts.get("kind") == contact.kind:
        del texts["kind"]
    found = _fields(texts)
    rows = _filled(form.phones) if form.phones is not None else None
    if rows is not None and rows != _filled(before.phones):
        found["phones"] = phones(rows, contact.phones, region, own_area_code)
    return found


def card(form: CardForm, region: str = "DE", own_area_code: str | None = None) -> dict[str, object]:
    """A new contact's fields from its form."""
    found = _fields(dict(form.texts))
    if form.phones is not None:
        found["phones"] = phones(_filled(form.phones), (), region, own_area_code)
    if found.get("customer_number") == "":
        found["customer_number"] = None
    return found


def phones(
    rows: Sequence[Row], current: Sequence[Phone], region: str, own_area_code: str | None
) -> tuple[Phone, ...]:
    """The card's numbers from the form's rows; a number shown as it was keeps its form."""
    found: list[Phone] = []
    for text, label in rows:
        for piece in filter(None, (p.strip() for p in _NUMBERS.split(text))):
            number = _phone(piece, label, current, region, own_area_code)
            if number.number not in {p.number for p in found}:
                found.append(number)
    if len(found) > MAX_PHONES:
        raise FormError("At most {count} numbers per contact.", count=str(MAX_PHONES))
    return tuple(found)


def _phone(text: str, label: str, current: Sequence[Phone], region: str, area: str | None) -> Phone:
    same = next((p for p in current if _unchanged(p, text)), None)
    if same is not None:
        return dataclasses.replace(same, label=_label(label, same.label))
    number = normalize(text, region, area)
    if number is None:
        raise FormError("Not a phone number: {text}", text=text[:64])
    known = next((p.label for p in current if p.number == number), None)
    chosen = _label(label, known or "landline")
    return Phone(number=number, label=_mobile(number) if chosen == "landline" else chosen, raw=text)


def _unchanged(phone: Phone, text: str) -> bool:
    """Whether `text` is the number as the form showed it (or, from a form older than
    written forms, its E.164)."""
    return text == written(phone) or (not phone.raw and text == phone.number)


def _label(chosen: str, fallback: str) -> str:
    """The label the form chose; a label from elsewhere (not offered) only if it was kept."""
    return chosen if chosen in PHONE_LABELS or (chosen and chosen == fallback) else fallback


def _mobile(number: str) -> str:
    """ "landline" for a new number, unless the number is a mobile's."""
    kind = phonenumbers.number_type(phonenumbers.parse(number))
    return "mobile" if kind == phonenumbers.PhoneNumberType.MOBILE else "landline"


def _fields(texts: dict[str, str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for name in ("given_name", "family_name", "company", "customer_number"):
        if name in texts:
            found[name] = texts[name][:MAX_TEXT]
    if "notes" in texts:
        found["notes"] = texts["notes"][:MAX_NOTES]
    if texts.get("kind") in ("person", "company"):
        found["kind"] = texts["kind"]
    if "emails" in texts:
        found["emails"] = _emails(texts["emails"])
    return found


def _emails(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for piece in filter(None, _ADDRESSES.split(text)):
        address = normalize_email(piece)
        if address is None:
            raise FormError("Not an email address: {text}", text=piece[:254])
        if address not in found:
            found.append(address)
    if len(found) > MAX_EMAILS:
        raise FormError("At most {count} email addresses per contact.", count=str(MAX_EMAILS))
    return tuple(found)


def _filled(rows: Sequence[Row] | None) -> tuple[Row, ...]:
    return tuple((text, label) for text, label in rows or () if text)


def _text(value: str) -> str:
    """A form value as typed: browsers send line breaks as CRLF; the edges are not content."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()
