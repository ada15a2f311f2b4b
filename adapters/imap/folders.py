"""Which folder holds the sent mail, found as mail clients find it; purely from LIST.

Thunderbird and K-9 look for the folder flagged `\\Sent` (SPECIAL-USE, RFC 6154), then
for Gmail's older XLIST flag, then for the names clients and servers give it. Those
differ by client and language ("Sent Items" from Outlook, "Gesendete Elemente" from a
German Outlook, "Gesendet" from many German providers) and sit at the top or under
INBOX with the server's separator ("INBOX.Sent" on Courier-style servers).

Every folder found by name is taken, not only the first: in a small office two clients
on one mailbox each keep their own ("Sent" from Thunderbird, "Gesendete Elemente" from
Outlook), and capturing both adds nothing twice (the capture keys). Without any, sent
mail is not captured at all, so that is a warning with the folder names to choose from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# (flags, delimiter, name) as imapclient's list_folders returns them.
Listed = tuple[tuple[bytes | str, ...], bytes | str | None, str]

# What clients and servers call the Sent folder, English and German; compared without
# case. "Postausgang" (outbox) holds mail not yet sent and is no Sent folder.
SENT_NAMES = (
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "Sent Mails",
    "Sent-Mail",
    "Gesendet",
    "Gesendete Objekte",
    "Gesendete Elemente",
    "Gesendete Nachrichten",
    "Gesendete E-Mails",
    "Gesendete Mails",
)
_SENT_KEYS = {name.casefold(): rank for rank, name in enumerate(SENT_NAMES)}
MAX_NAMED = 12  # folders listed in the warning


@dataclass(frozen=True, slots=True)
class SentFolders:
    """The Sent folder(s) of a mailbox, how they were found, and what went wrong."""

    names: tuple[str, ...]
    found_by: str  # special-use, xlist, sent_folder, name, none
    warning: str | None = None


def find_sent(
    listed: Sequence[Listed],
    configured: str | None = None,
    xlisted: Sequence[Listed] = (),
) -> SentFolders:
    """The Sent folder(s): flagged `\\Sent` (LIST, else XLIST), else `configured` when the
    server has it, else every folder with a common Sent name at the top or under INBOX."""
    names = [name for _, _, name in listed]
    for found_by, folders in (("special-use", listed), ("xlist", xlisted)):
        flagged = [name for flags, _, name in folders if _is_sent(flags)]
        if flagged:
            return SentFolders(tuple(flagged), found_by)
    missing = None
    if configured:
        if configured in names:
            return SentFolders((configured,), "sent_folder")
        missing = f'sent_folder "{configured}" is not on the server'
    named = _by_name(listed)
    if named:
        warning = f"{missing}; capturing {', '.join(named)} (found by name)" if missing else None
        return SentFolders(named, "name", warning)
    return SentFolders((), "none", _none_found(names, missing))


def _is_sent(flags: Sequence[bytes | str]) -> bool:
    return any(_text(flag).casefold() == "\\sent" for flag in flags)


def _by_name(listed: Sequence[Listed]) -> tuple[str, ...]:
    """Folders named like a Sent folder, at the top or directly under INBOX, in the order
    of SENT_NAMES."""
    ranked = []
    for flags, delimiter, name in listed:
        if any(_text(flag).casefold() == "\\noselect" for flag in flags):
            continue
        rank = _SENT_KEYS.get(_leaf(name, _text(delimiter or "")).casefold())
        if rank is not None:
            ranked.append((rank, name))
    return tuple(name for _, name in sorted(ranked))


def _leaf(name: str, delimiter: str) -> str:
    """The name without an "INBOX" parent ("INBOX.Sent" -> "Sent"); a name nested
    anywhere else is returned whole, so it matches nothing."""
    if delimiter and name[:6].upper() == "INBOX" + delimiter and len(delimiter) == 1:
        return name[6:]
    return name


def _none_found(names: list[str], missing: str | None) -> str:
    others = [n for n in names if n.upper() != "INBOX"]
    choices = ", ".join(f'"{n}"' for n in others[:MAX_NAMED]) + (
        ", …" if len(others) > MAX_NAMED else ""
    )
    why = missing or "no folder is flagged \\Sent and none has a common Sent name"
    return (
        f"no Sent folder found ({why}): sent mail is NOT captured. "
        f"Set sent_folder in this [[mail.imap]] account to one of: {choices}"
    )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
