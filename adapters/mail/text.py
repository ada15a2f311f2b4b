"""Plain text from HTML, and phone numbers from a signature block; pure."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"}
_SKIP = {"script", "style", "head", "title"}
# A labelled number in a signature: "Tel.: +49 30 1234-56", "Fax 030/123456", "Mobil: ..."
_NUMBER = re.compile(
    r"(?i)\b(tel(?:efon)?|phone|fon|fax|telefax|mobil(?:e)?|handy|cell)\b\.?\s*[:.]?\s*"
    r"(\+?[\d][\d\s()/.\-]{5,24}\d)"
)
_DIGIT = re.compile(r"\d")
SIGNATURE_LINES = 15


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (scripts and styles dropped)."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # html.parser rarely fails; keep what was collected
        pass
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def signature_numbers(text: str) -> tuple[str, ...]:
    """Labelled phone/fax numbers in the last lines of a body (the signature), as written:
    the first lines after the last "-- " line, else the last lines.

    Quoted text ("> ...") is ignored so a reply does not offer the other side's numbers.
    """
    if _has_delimiter(text) and "-- " in (lines := text.splitlines()):
        after = len(lines) - lines[::-1].index("-- ")
        tail = list(itertools.islice(_own(lines[after:]), SIGNATURE_LINES))
    else:
        tail = _last_own_lines(text)
    found = []
    for line in tail:
        if not _DIGIT.search(line):  # (the number pattern is slow to try on prose)
            continue
        for label, number in _NUMBER.findall(line):
            kind = "fax" if "fax" in label.lower() else "phone"
            found.append(f"{kind}:{number.strip()}")
    return tuple(dict.fromkeys(found))[:10]


def _has_delimiter(text: str) -> bool:
    """`"-- " in text`, quicker: a search for those three characters reads prose at well
    under 1 GB/s (its last one, the blank, is everywhere), one for a single "-" at
    memchr's speed, and prose has few of them."""
    at = text.find("-")
    for _ in range(64):
        if at < 0:
            return False
        if text.startswith("-- ", at):
            return True
        at = text.find("-", at + 1)
    return "-- " in text[at:]  # a ruler of dashes


def _last_own_lines(text: str) -> list[str]:
    """The last SIGNATURE_LINES unquoted lines, splitting only as much of the end of the
    text as it takes (a body has hundreds of lines)."""
    size = 4096
    while True:
        whole = size >= len(text)
        lines = text.splitlines() if whole else text[-size:].splitlines()[1:]  # [0]: cut
        tail = list(itertools.islice(_own(reversed(lines)), SIGNATURE_LINES))
        if whole or len(tail) == SIGNATURE_LINES:
            tail.reverse()
            return tail
        size *= 4


def _own(lines: Iterable[str]) -> Iterator[str]:
    """The lines that are not quoted."""
    return (line for line in lines if not line.lstrip().startswith(">"))
