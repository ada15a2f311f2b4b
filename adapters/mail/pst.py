"""Outlook .pst (and .ost) files read with libpff (the optional extra `pst`).

Each message is read into a `PstMessage` (pst_eml.py rebuilds its RFC 5322 bytes); the
folders keep their path below the mailbox's top ("Posteingang", "Kunden/Meyer"), and
Outlook's Deleted Items and Junk E-mail folders are known as such (pst_folders.py).
libpff is blocking: the importer calls this module in a thread.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.mail.pst_embedded import embedded_message
from adapters.mail.pst_eml import PstAttachment, PstMessage, rebuild
from adapters.mail.pst_folders import DELETED, JUNK, Special, entry_node, multi_binary, special

PST_MAGIC = b"!BDN"
# MAPI property tags (the id; libpff gives the type): [MS-OXPROPS].
SENDER_EMAIL, SENDER_SMTP, SENT_REPRESENTING_EMAIL = 0x0C1F, 0x5D01, 0x0065
MESSAGE_ID, IN_REPLY_TO, REFERENCES, INTERNET_CPID = 0x1035, 0x1042, 0x1039, 0x3FDE
DISPLAY_NAME, EMAIL_ADDRESS, SMTP_ADDRESS, RECIPIENT_TYPE = 0x3001, 0x3003, 0x39FE, 0x0C15
ATTACH_METHOD, ATTACH_MIME_TAG, ATTACH_CONTENT_ID = 0x3705, 0x370E, 0x3712
ATTACH_LONG_NAME, ATTACH_NAME, ATTACH_EMBEDDED = 0x3707, 0x3704, 5
IPM_SUBTREE_ENTRYID, MESSAGE_CLASS = 0x35E0, 0x001A
SUBJECT, SENDER_NAME, SENT_REPRESENTING_NAME, TRANSPORT_HEADERS = 0x0037, 0x0C1A, 0x0042, 0x007D
SUBMIT_TIME, DELIVERY_TIME = 0x0039, 0x0E06
NESTED = 3  # forwarded items inside forwarded items opened; deeper ones stay opaque
# Where Outlook marks its special folders: the store names Deleted Items by its entry id;
# the Junk E-mail folder is the fifth entry id of a list kept on the Inbox and the root
# ([MS-OXOSFLD] 2.2.4). The names are a fallback for files whose marks are missing.
WASTEBASKET_ENTRYID, ADDITIONAL_REN_ENTRYIDS, JUNK_INDEX = 0x35E3, 0x36D8, 4
# Item classes that are mail: messages, meeting requests and answers, delivery reports.
MAIL_CLASSES = ("ipm.note", "ipm.schedule.meeting", "report.ipm.note")
_STRING_TYPES = (0x001E, 0x001F)
_ANSI_CODE_PAGE = re.compile(rb"\\ansicpg(\d{1,5})")


class PstUnavailable(RuntimeError):
    """libpff is not installed (Kartei without the `pst` extra)."""


UNAVAILABLE = (
    "reading Outlook .pst files needs libpff, which Kartei installs with its "
    "extra 'pst': pip install 'kartei[pst]'"
)
NOT_A_PST = "not a readable PST file ({reason})"
DAMAGED_TREE = "the folder tree is damaged ({reason})"
UNREADABLE = "{folder}, message {number}: {reason}"
UNREBUILT = "{folder}, message {number}: cannot rebuild it ({reason})"


class PstReadError(ValueError):
    """The file cannot be read as a PST (damaged, truncated, not a PST), or one message
    of it cannot. `what` is one of the wordings above (the command line says it in the
    user's language), `values` fill it in; `reason` is libpff's own (not translated)."""

    def __init__(self, what: str, reason: str, **values: object) -> None:
        self.what, self.reason, self.values = what, reason, values
        super().__init__(what.format(reason=reason, **values))


@dataclass(frozen=True, slots=True)
class PstFolder:
    path: str  # below the mailbox's top, "/" between levels
    handle: Any  # the pypff folder
    messages: int
    special: Special | None = None  # Outlook's Deleted Items or Junk E-mail, or below one


def is_pst(path: Path) -> bool:
    """By name or by content (a damaged one by its name: its import then says what is wrong)."""
    if not path.is_file():
        return False
    if path.suffix.lower() in (".pst", ".ost"):
        return True
    with open(path, "rb") as f:
        return f.read(4) == PST_MAGIC


def fingerprint(path: Path) -> str:
    """Names one state of the file: its size and header (which holds the root pointers
    and a counter that every write of Outlook changes)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    return hashlib.sha256(str(path.stat().st_size).encode() + b"\0" + head).hexdigest()[:32]


def libpff() -> Any:
    """The pypff module, or PstUnavailable saying which extra to install."""
    try:
        import pypff  # type: ignore[import-not-found]  # an optional extra
    except ImportError as err:
        raise PstUnavailable(UNAVAILABLE) from err
    return pypff


def open_pst(path: Path) -> Any:
    """The opened pypff file; PstUnavailable or PstReadError with a readable reason."""
    pst = libpff().file()
    try:
        pst.open(str(path))
    except OSError as err:
        raise PstReadError(NOT_A_PST, _reason(err)) from err
    return pst


def folders(pst: Any) -> list[PstFolder]:
    """Every folder, depth first, in the PST's own order (empty ones too: a folder named
    for the import may hold only subfolders)."""
    top = _ipm_subtree(pst)
    walked: list[tuple[tuple[str, ...], Any, int, tuple[int, ...]]] = []
    wastebasket = _store_node(pst, WASTEBASKET_ENTRYID)
    marked: dict[int, Special] = {wastebasket: DELETED} if wastebasket else {}

    def walk(folder: Any, path: tuple[str, ...], nodes: tuple[int, ...], mine: bool) -> None:
        if folder.identifier == top:
            path, nodes, mine = (), (), True
        junk = _junk_node(folder)
        if junk:
            marked[junk] = JUNK
        count = folder.number_of_sub_messages
        if count or (mine and path):  # not the search folders beside the mailbox's top
            walked.append((path, folder, count, nodes))
        for i in range(folder.number_of_sub_folders):
            child = folder.get_sub_folder(i)
            walk(child, (*path, _folder_name(child)), (*nodes, int(child.identifier)), mine)

    try:
        walk(pst.root_folder, (), (), top is None)
    except OSError as err:
        raise PstReadError(DAMAGED_TREE, _reason(err)) from err
    return [
        PstFolder("/".join(path) or "(top)", folder, count, special(path, nodes, marked))
        for path, folder, count, nodes in walked
    ]


def _store_node(pst: Any, tag: int) -> int | None:
    """The node id of a folder the message store names by its entry id."""
    store = pst.message_store
    entry = _properties(store).get(tag) if store is not None else None
    return entry_node(entry.data) if entry is not None else None


def _junk_node(folder: Any) -> int | None:
    """The Junk E-mail folder's node id, where this folder keeps Outlook's list (a folder
    whose properties cannot be read has none: its messages may still be readable)."""
    try:
        entry = _properties(folder).get(ADDITIONAL_REN_ENTRYIDS)
    except OSError:
        return None
    ids = multi_binary(entry.data) if entry is not None and entry.data else []
    return entry_node(ids[JUNK_INDEX]) if len(ids) > JUNK_INDEX else None


def _folder_name(folder: Any) -> str:
    """One level of a folder path: one line, no "/" (it separates the levels)."""
    name = " ".join(str(folder.name or "").split()).replace("/", "∕")
    return name or f"folder-{folder.identifier}"


def read_message(folder: PstFolder, index: int) -> tuple[int, PstMessage | None]:
    """The folder's item at `index`, with its node id (stable within one file); None for
    an item that is no mail (an appointment, a contact, a task, a note)."""
    try:
        item = folder.handle.get_sub_message(index)
        kind = _text(_properties(item), MESSAGE_CLASS).lower()
        mail = not kind or kind.startswith(MAIL_CLASSES)
        return int(item.identifier), _message(item) if mail else None
    except OSError as err:
        raise PstReadError(UNREADABLE, _reason(err), folder=folder.path, number=index + 1) from err


def _message(item: Any, depth: int = 0) -> PstMessage:
    props = _properties(item)
    cpid = props.get(INTERNET_CPID)
    # An attached item (depth > 0) opened by pst_embedded: the binding's getters by
    # property type fail on it (libpff: "invalid record set"), its property list does not.
    read = _lenient(props) if depth else getattr
    text = _decoded(read(item, "plain_text_body"), "utf-8")  # libpff gives UTF-8
    html = _decoded(read(item, "html_body"), _codec(cpid.data_as_integer if cpid else None))
    rtf = (read(item, "rtf_body") or b"").rstrip(b"\0") if text is None and html is None else b""
    return PstMessage(
        transport_headers=read(item, "transport_headers"),
        subject=read(item, "subject") or "",
        sender_name=read(item, "sender_name") or "",
        sender_email=_text(props, SENDER_SMTP, SENDER_EMAIL, SENT_REPRESENTING_EMAIL),
        **_recipients(item),
        date=_utc(read(item, "client_submit_time") or read(item, "delivery_time")),
        message_id=_text(props, MESSAGE_ID) or None,
        in_reply_to=_text(props, IN_REPLY_TO) or None,
        references=_text(props, REFERENCES) or None,
        text=_rtf_text(rtf) if rtf else text,
        html=html,
        rtf=rtf or None,
        attachments=[_attachment(a, depth) for a in item.attachments],
    )


_FALLBACK = {
    "transport_headers": (TRANSPORT_HEADERS,),
    "subject": (SUBJECT,),
    "sender_name": (SENDER_NAME, SENT_REPRESENTING_NAME),
    "client_submit_time": (SUBMIT_TIME,),
    "delivery_time": (DELIVERY_TIME,),
}


def _lenient(props: dict[int, Any]) -> Any:
    """A getter that reads a property from the item's property list where the binding's
    getter fails, and gives None for a body libpff cannot decompress."""

    def read(item: Any, name: str) -> Any:
        try:
            return getattr(item, name)
        except OSError:
            tags = _FALLBACK.get(name, ())
            if name.endswith("_time"):
                entry = next((props[t] for t in tags if t in props), None)
                return entry.data_as_datetime if entry is not None else None
            return _text(props, *tags) or None if tags else None

    return read


def _rtf_text(rtf: bytes) -> str:
    """The text of a body that is only RTF (decompressed by libpff), by striprtf."""
    from striprtf.striprtf import rtf_to_text  # the pst extra, as libpff

    page = _ANSI_CODE_PAGE.search(rtf)
    codec = _codec(int(page[1]) if page else 1252)  # of the \'xx escapes
    return str(rtf_to_text(rtf.decode("latin-1"), encoding=codec, errors="ignore")).strip()


def _recipients(item: Any) -> dict[str, list[tuple[str, str]]]:
    kinds: dict[int, list[tuple[str, str]]] = {1: [], 2: [], 3: []}
    table = item.recipients
    for i in range(table.number_of_record_sets if table is not None else 0):
        props = _entries(table.get_record_set(i))
        address = _text(props, SMTP_ADDRESS, EMAIL_ADDRESS)
        kind = props.get(RECIPIENT_TYPE)
        if address:
            number = kind.data_as_integer if kind is not None else 1
            kinds.get(number, kinds[1]).append((_text(props, DISPLAY_NAME), address))
    return {"to": kinds[1], "cc": kinds[2], "bcc": kinds[3]}


def _attachment(attachment: Any, depth: int = 0) -> PstAttachment:
    props = _properties(attachment)
    name = attachment.long_filename or _text(props, ATTACH_LONG_NAME, ATTACH_NAME)
    method = props.get(ATTACH_METHOD)
    if method is not None and method.data_as_integer == ATTACH_EMBEDDED:
        return _attached_item(attachment, name, depth)
    mime = _text(props, ATTACH_MIME_TAG) or mimetypes.guess_type(name or "")[0]
    data = attachment.read_buffer(attachment.size) if attachment.size else b""
    cid = _text(props, ATTACH_CONTENT_ID).strip("<>") or None
    return PstAttachment(name or "attachment", mime or "application/octet-stream", data, cid)


def _attached_item(attachment: Any, name: str, depth: int) -> PstAttachment:
    """An attached Outlook item (a forwarded mail) as a message/rfc822 part, rebuilt as
    the mail itself is; where it cannot be opened (pst_embedded), its stored bytes (the
    item's property heap) are kept as they are."""
    inner = embedded_message(libpff(), attachment) if depth < NESTED else None
    if inner is not None:
        try:
            eml = rebuild(_message(inner, depth + 1))
        except (OSError, ValueError, TypeError, LookupError):
            eml = None
        if eml is not None:
            return PstAttachment(f"{name or 'Outlook item'}.eml", "message/rfc822", eml)
    data = attachment.read_buffer(attachment.size) if attachment.size else b""
    return PstAttachment(f"{name or 'Outlook item'}.pst-item", "application/octet-stream", data)


def _ipm_subtree(pst: Any) -> int | None:
    """The node id of the mailbox's top ("Top of Personal Folders", or its translation)."""
    return _store_node(pst, IPM_SUBTREE_ENTRYID)


def _properties(item: Any) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for i in range(item.number_of_record_sets):
        found.update(_entries(item.get_record_set(i)))
    return found


def _entries(record_set: Any) -> dict[int, Any]:
    return {e.entry_type: e for e in record_set.entries}


def _text(props: dict[int, Any], *tags: int) -> str:
    for tag in tags:
        entry = props.get(tag)
        if entry is not None and entry.value_type in _STRING_TYPES and entry.data:
            value = entry.data_as_string
            if value:
                return str(value)
    return ""


def _decoded(data: bytes | None, codec: str) -> str | None:
    return data.decode(codec, "replace").rstrip("\0") if data else None


def _codec(cpid: int | None) -> str:
    """A Windows code page number as a Python codec (UTF-8 when unknown)."""
    name = {65001: "utf-8", 1200: "utf-16-le", 20127: "ascii", 28591: "latin-1"}.get(
        cpid or 65001, f"cp{cpid}"
    )
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _utc(moment: datetime | None) -> datetime | None:
    """libpff's times are naive UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _reason(err: Exception) -> str:
    """libpff's message chain, without the C function names that precede each part."""
    parts = [p.split(": ", 1)[-1] for p in str(err).split(". ") if p]
    return "; ".join(dict.fromkeys(parts))[:300]
