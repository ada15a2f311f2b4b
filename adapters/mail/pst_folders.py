"""Which folders of an Outlook PST an import reads.

Outlook's Deleted Items ("Gelöschte Elemente") and Junk E-mail ("Junk-E-Mail") hold what
the firm threw away and what its filter caught: they are left out unless asked for
(`--include-deleted`, `--include-junk`), and so is every folder below them. With
`--folder NAME` only the named folders and those below them are read; a folder named
there is read whatever it is. Pure: pst.py reads the marks, this decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from adapters.mail.pst import PstFolder

Special = Literal["deleted", "junk"]
DELETED: Final = "deleted"
JUNK: Final = "junk"
# The names Outlook gives them at the mailbox's top, German and English, older versions
# too: the fallback for a file whose store does not mark them (copied by other tools).
_NAMES: Final[Mapping[str, Special]] = {
    "gelöschte elemente": DELETED,
    "gelöschte objekte": DELETED,
    "deleted items": DELETED,
    "junk-e-mail": JUNK,
    "junk e-mail": JUNK,
    "junk email": JUNK,
}
_MAX_VALUES = 1024  # a list of special folders' ids has a handful; more is damage


class UnknownFolder(ValueError):
    """`--folder` named folders the file does not have (`unknown`); `have`: its folders."""

    def __init__(self, unknown: Sequence[str], have: Sequence[str]) -> None:
        self.unknown, self.have = tuple(unknown), tuple(have)
        names = ", ".join(map(repr, self.unknown))
        super().__init__(f"no folder {names}; it has {', '.join(map(quoted, self.have))}")


def quoted(name: str) -> str:
    """A folder's name as the messages show it: "Kunden/Meyer"."""
    return f'"{name}"'


@dataclass(frozen=True, slots=True)
class FolderChoice:
    """What an import was asked to read of a PST."""

    include_deleted: bool = False
    include_junk: bool = False
    only: tuple[str, ...] = ()  # `--folder` names; every folder when empty


@dataclass(frozen=True, slots=True)
class Skipped:
    """A special folder (and those below it) that the import left out."""

    folder: str
    special: Special
    messages: int


@dataclass(frozen=True, slots=True)
class Selection:
    read: list[PstFolder]  # those that hold messages, in the file's order
    skipped: list[Skipped]


def entry_node(data: bytes | None) -> int | None:
    """The node id in a PST entry id: 4 flag bytes, the store's 16-byte id, the node."""
    return int.from_bytes(data[20:24], "little") if data and len(data) >= 24 else None


def multi_binary(data: bytes) -> list[bytes]:
    """A multi-valued binary property as a PST stores it ([MS-PST] 2.3.3.4.2): a count,
    each value's offset, then the values; a value whose offset is damaged reads empty."""
    count = int.from_bytes(data[:4], "little") if len(data) >= 4 else 0
    head = 4 + 4 * count
    if count > _MAX_VALUES or head > len(data):
        return []
    starts = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "little") for i in range(count)]
    ends = [*starts[1:], len(data)]
    spans = zip(starts, ends, strict=True)
    return [data[a:b] if head <= a <= b <= len(data) else b"" for a, b in spans]


def special(
    path: Sequence[str], nodes: Sequence[int], marked: Mapping[int, Special]
) -> Special | None:
    """What a folder is: marked itself or below a marked folder (`nodes`: its own and its
    ancestors' node ids below the top), else by its top-level folder's name."""
    for node in nodes:
        if node in marked:
            return marked[node]
    return _NAMES.get(path[0].casefold()) if path else None


def select(found: Sequence[PstFolder], choice: FolderChoice) -> Selection:
    """The folders to read and the special ones left out; UnknownFolder names a `--folder`
    that matches nothing, with the folders the file has."""
    named = {f.path for f in found if any(_within(f.path, n) for n in choice.only)}
    unknown = [n for n in choice.only if not any(_within(f.path, n) for f in found)]
    if unknown:
        raise UnknownFolder(unknown, [f.path for f in found if f.path != "(top)"])
    include = {DELETED: choice.include_deleted, JUNK: choice.include_junk}
    read: list[PstFolder] = []
    skipped: dict[str, Skipped] = {}
    for folder in found:
        if choice.only and folder.path not in named:
            continue
        if folder.special is None or include[folder.special] or folder.path in named:
            read += [folder] if folder.messages else []
            continue
        top = folder.path.split("/", 1)[0]
        before = skipped.get(top, Skipped(top, folder.special, 0))
        skipped[top] = Skipped(top, before.special, before.messages + folder.messages)
    return Selection(read, [s for s in skipped.values() if s.messages])


def _within(path: str, name: str) -> bool:
    """Whether a folder is the one named or below it (as Outlook names are: any case)."""
    path, name = path.casefold(), name.strip().strip("/").casefold()
    return bool(name) and (path == name or path.startswith(name + "/"))
