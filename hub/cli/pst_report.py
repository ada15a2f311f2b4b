"""What `kartei import-mail FILE.pst` says, in the configured language: each folder's
line, the special folders left out, what could not be read. The adapter's errors carry
their wording's key and values (adapters/mail/pst.py, pst_folders.py); this words them
from the web's catalogue (hub/web/i18n.py), as hub/cli/words.py does for the rest."""

from __future__ import annotations

from adapters.mail.pst import PstReadError
from adapters.mail.pst_folders import DELETED, Skipped, UnknownFolder, quoted
from adapters.mail.pst_import import FolderResult
from hub.cli.words import Words

REPAIR = (
    "What could be read is imported; run again once the file is repaired (scanpst.exe): "
    "nothing is stored twice."
)


def folder_line(file: str, r: FolderResult, say: Words) -> str:
    """ "sample.pst/Posteingang: 5 von 5 gelesen (4 aus einem früheren Lauf), 1 neu,
    2 bereits erfasst, 1 keine Mail (Kalender, Kontakte ...)" """
    head = say(
        "{file}/{folder}: {read} of {total} read",
        file=file,
        folder=r.folder,
        read=r.read,
        total=r.total,
    )
    if r.resumed_at:
        head += " " + say("({count} by an earlier run)", count=r.resumed_at)
    parts = [head, say("{count} new", count=r.added)]
    parts += [already(r.already, say)] if r.already else []
    if r.not_mail:
        parts.append(say("{count} not mail (calendar, contacts ...)", count=r.not_mail))
    return ", ".join(parts)


def already(count: int, say: Words) -> str:
    """ "2 bereits erfasst": held before the import (from the mail server, or a run before)."""
    return say("{count} already archived", count=count)


def skipped(folder: Skipped, say: Words, prefix: str = "") -> str:
    """ "Gelöschte Elemente (1.234 Nachrichten)" """
    return say.counted(
        folder.messages,
        "{folder} ({count} message)",
        "{folder} ({count} messages)",
        folder=f"{prefix}{folder.folder}",
    )


def skip_line(file: str, folder: Skipped, say: Words) -> str:
    """ "sample.pst: übersprungen: Junk-E-Mail (3 Nachrichten); einlesen mit --include-junk" """
    option = "--include-deleted" if folder.special == DELETED else "--include-junk"
    what = skipped(folder, say)
    return say(
        "{file}: skipped: {folders}; read it with {option}", file=file, folders=what, option=option
    )


def left_out(folders: list[str], say: Words) -> str:
    return say("skipped: {folders}", folders=", ".join(folders))


def read_error(file: str, err: PstReadError, say: Words) -> str:
    """ "sample.pst: Gesendete Elemente, Nachricht 3: unable to retrieve ..." (libpff's
    reason stays as libpff words it)."""
    return f"{file}: " + say(err.what, reason=err.reason, **err.values)


def unknown_folder(file: str, err: UnknownFolder, say: Words) -> str:
    names = ", ".join(map(quoted, err.unknown))
    have = ", ".join(map(quoted, err.have))
    return say("{file}: no folder {names}; it has {folders}", file=file, names=names, folders=have)


def problems(found: list[str], say: Words) -> str:
    return "; ".join(found) + ". " + say(REPAIR)
