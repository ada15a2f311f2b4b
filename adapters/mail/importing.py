"""History import: .eml files, mbox files and Maildir folders, as (raw bytes, mailbox) pairs.

Outlook .pst files are found here too, and imported by pst_import.py (folder by folder,
resumable); `count` and `messages` are for the other kinds."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from adapters.mail.pst import is_pst

EML_SUFFIXES = {".eml", ".msg", ".txt"}


class ImportSourceError(ValueError):
    """A path given to import that does not exist (`path`: which; the command line says
    it in the user's language)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: no such file or folder")


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new"))


def outlook_files(found: list[Path]) -> tuple[list[Path], list[Path]]:
    """The .pst (and .ost) files among `found`, and the rest."""
    pst = [path for path in found if is_pst(path)]
    return pst, [path for path in found if path not in pst]


def is_mbox(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() in EML_SUFFIXES:
        return False
    with open(path, "rb") as f:
        return f.read(5) == b"From "


def sources(paths: list[Path]) -> list[Path]:
    """Expands folders into the email files, mbox files and Maildirs inside them."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ImportSourceError(path)
        if is_maildir(path) or path.is_file():
            found.append(path)
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if is_maildir(child) or (
                    child.is_file()
                    and not any(p in ("cur", "new", "tmp") for p in child.relative_to(path).parts)
                ):
                    found.append(child)
    return found


def count(path: Path) -> int:
    if is_maildir(path):
        return sum(1 for _ in mailbox.Maildir(path, create=False).iterkeys())
    if is_mbox(path):
        box = mailbox.mbox(path, create=False)
        try:
            return len(box.keys())
        finally:
            box.close()
    return 1


def messages(path: Path) -> Iterator[tuple[bytes, str]]:
    """The raw messages in one source, each with its provenance ``import:<name>``."""
    label = f"import:{path.name}"
    if is_maildir(path):
        box = mailbox.Maildir(path, create=False)
        for key in box.iterkeys():
            with box.get_file(key) as f:
                yield f.read(), label
    elif is_mbox(path):
        box_ = mailbox.mbox(path, create=False)
        try:
            for key in box_.iterkeys():
                yield box_.get_bytes(key), label
        finally:
            box_.close()
    else:
        yield path.read_bytes(), "import:eml"
