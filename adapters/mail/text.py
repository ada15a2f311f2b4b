"""Plain text from HTML, and phone numbers from a signature block; pure."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"}
_SKIP = {"script", "style", "head", "title"}
# A labelled number in a signature: "Tel.: +49 30 1234-56", "Fax 030/123456", "Mobil: ..."
_NUMBER = re.compile(
    r"(?i)\b(tel(?:efon)?|phone|fon|fax|telefax|mobil(?:e)?|handy|cell)\b\.?\s*[:.]?\s*"
    r"(\+?[\d][\d\s()/.\-]{5,24}\d)"
)
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
    """Labelled phone/fax numbers in the last lines of a body (the signature), as written.

    Quoted text ("> ...") is ignored so a reply does not offer the other side's numbers.
    """
    own = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    cut = len(own) - own[::-1].index("-- ") if "-- " in own else -SIGNATURE_LINES
    tail = own[cut:]
    found = []
    for line in tail[:SIGNATURE_LINES]:
        for label, number in _NUMBER.findall(line):
            kind = "fax" if "fax" in label.lower() else "phone"
            found.append(f"{kind}:{number.strip()}")
    return tuple(dict.fromkeys(found))[:10]
