"""vCard 2.1/3.0/4.0 address books as records, one per card, read with `vobject`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import vobject

from adapters.importers import remarks
from adapters.importers.cards import Draft
from adapters.importers.remarks import Remark
from adapters.importers.tabular import FileFormatError, Record, decode

_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.I)
_END = re.compile(r"^END:VCARD\s*$", re.I)
MAX_CARD_LINES = 5000
_FOLD = re.compile(r"\r?\n[ \t]")
_TEXT_PROPERTY = re.compile(r"^(?:[\w-]+\.)?(NOTE|FN|ORG|ADR|N|TITLE)[;:]", re.I)
_BARE_COMMA = re.compile(r"(?<!\\),")
# Properties the import never reads that make vobject refuse the whole card: binary data
# (vobject decodes a phone export's PHOTO while parsing, and a photo cut off in transfer
# fails the card) and RFC 2426's PROFILE:VCard, which vobject takes for a second BEGIN.
# They are dropped before parsing; the card keeps everything the import reads.
_UNREAD = re.compile(r"^(?:[\w-]+\.)?(PHOTO|LOGO|SOUND|KEY|PROFILE)[;:]", re.I)
_READ = re.compile(r"^(?:[\w-]+\.)?(N|FN|ORG|EMAIL|TEL|ADR|NOTE|CATEGORIES)[;:]", re.I)
_BASE64 = frozenset({"ENCODING=B", "ENCODING=BASE64", "BASE64"})


def read_vcards(data: bytes) -> list[Record]:
    """Every card in the file; a card that cannot be parsed is a record with its error."""
    # vobject logs each line it skips; the import reports problems per card instead.
    logging.getLogger("vobject").setLevel(logging.CRITICAL)
    text, _ = decode(data)
    if not text.strip():
        raise FileFormatError(remarks.EMPTY_FILE)
    records = [_record(line, chunk) for line, chunk in _cards(text)]
    if not records:
        raise FileFormatError(remarks.NOT_VCARD)
    return records


def _cards(text: str) -> Iterator[tuple[int, str]]:
    """Each card's text and the line it begins on; folded lines stay with their card."""
    start, lines = 0, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if _BEGIN.match(line):
            if lines:  # a card without END: give what we have, let the parser judge
                yield start, "\n".join(lines)
            start, lines = number, [line]
        elif lines:
            lines.append(line)
            if _END.match(line) or len(lines) > MAX_CARD_LINES:
                yield start, "\n".join(lines) + "\n"
                lines = []
    if lines:
        yield start, "\n".join(lines)


def _escaped(chunk: str) -> str:
    """The card unfolded, without the binary properties it does not import, with bare
    commas in text values escaped: many writers leave them bare, and vobject would keep
    only the text before the first one."""
    lines = []
    for line in _FOLD.sub("", chunk).splitlines():
        if _unread_binary(line):
            continue
        if _TEXT_PROPERTY.match(line):
            head, sep, value = _split_value(line)
            line = head + sep + _BARE_COMMA.sub(r"\\,", value)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _unread_binary(line: str) -> bool:
    """Whether a line is a property the import does not read and vobject may choke on."""
    if _UNREAD.match(line):
        return True
    if _READ.match(line):
        return False
    head, _, _ = _split_value(line)
    return any(p.strip().upper() in _BASE64 for p in head.split(";")[1:])


def _split_value(line: str) -> tuple[str, str, str]:
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[:i], ":", line[i + 1 :]
    return line, "", ""


def _record(line: int, chunk: str) -> Record:
    try:
        card = vobject.readOne(_escaped(chunk), ignoreUnreadable=True)
    except Exception as err:  # vobject raises many kinds (ParseError, ValueError, ...)
        return Record(line, None, _unreadable(err))
    try:
        return Record(line, _draft(card))
    except Exception as err:
        return Record(line, None, _unreadable(err))


def _unreadable(err: Exception) -> Remark:
    detail = (str(err).splitlines() or [type(err).__name__])[0][:200]
    return Remark.of(remarks.UNREADABLE_VCARD, detail=detail)


def _draft(card: vobject.base.Component) -> Draft:
    draft = Draft()
    contents = card.contents
    for n in contents.get("n", [])[:1]:
        draft.add("given_name", _text(n.value.given))
        draft.add("given_name", _text(n.value.additional))
        draft.add("family_name", _text(n.value.family))
    if not draft.values.get("family_name") and not draft.values.get("given_name"):
        for fn in contents.get("fn", [])[:1]:
            draft.add("name", _text(fn.value))
    for org in contents.get("org", [])[:1]:
        value = org.value
        draft.add("company", _text(value[0] if isinstance(value, list) and value else value))
    for email in contents.get("email", []):
        draft.add("email", _text(email.value))
    for tel in contents.get("tel", []):
        draft.add(_tel_field(tel), _text(tel.value).removeprefix("tel:"))
    for adr in contents.get("adr", [])[:2]:
        work = "WORK" in _types(adr) or not draft.values.get("street")
        a = adr.value
        for name, value in (
            ("street", a.street),
            ("postcode", a.code),
            ("city", a.city),
            ("country", a.country),
        ):
            draft.add(name, _text(value), private=not work)
    for note in contents.get("note", []):
        draft.add("notes", _text(note.value))
    for categories in contents.get("categories", []):
        value = categories.value
        draft.add("tags", ",".join(value) if isinstance(value, list) else _text(value))
    return draft


def _tel_field(tel: vobject.base.ContentLine) -> str:
    types = _types(tel)
    if "FAX" in types:
        return "fax"
    if "CELL" in types:
        return "mobile"
    if "HOME" in types and "WORK" not in types:
        return "home_phone"
    return "phone"


def _types(line: vobject.base.ContentLine) -> set[str]:
    found: set[str] = set()
    for value in line.params.get("TYPE", []):
        found.update(part.strip().upper() for part in value.split(","))
    # vCard 2.1 writes TEL;CELL;WORK:...
    found.update(str(p).upper() for p in getattr(line, "singletonparams", []))
    return found


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v)
    return "" if value is None else str(value)
