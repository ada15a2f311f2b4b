"""What a German page says that is not from the German catalogue (hub/web/i18n.py), or
an English page that is not from the English one (the catalogue's keys).

A page's visible strings are its text nodes and the attributes people read or hear (title,
placeholder, aria-label, alt, a button's value, the pop-up's `data-t-*` texts). Each string
is stripped of catalogue values and of the data a test put in; what is left must hold no
letter, and nothing may be written in an English format (ISO date, raw E.164, "1,234").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from hub.web.i18n import GERMAN
from hub.web.labels import LANGUAGE_NAMES

BRAND = "Kartei"
READ_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt"})
BUTTON_TYPES = frozenset({"submit", "button", "reset"})
SKIPPED_ELEMENTS = frozenset({"script", "style", "textarea"})
# Formats a German page must not show: ISO dates, raw E.164, English thousands and
# decimals ("3.5", not a date's "07.12."), am/pm.
ENGLISH_FORMATS = re.compile(
    r"\d{4}-\d{2}-\d{2}|\+\d{7,}|\d,\d{3}\b|(?<![\d.])\d+\.\d{1,2}(?![\d.])"
    r"|\b\d{1,2}(:\d{2})?\s?[ap]\.?m\.?\b",
    re.IGNORECASE,
)
LETTER = re.compile(r"[^\W\d_]")
PLACEHOLDER = re.compile(r"\\\{\w+\\\}")


class _Strings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SKIPPED_ELEMENTS:
            self._skipping.append(tag)
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or name.startswith("data-t-")):
                self.strings.append(value)
        is_button = tag == "button" or (tag == "input" and values.get("type") in BUTTON_TYPES)
        if is_button and values.get("value") and tag == "input":
            self.strings.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipping:
            self.strings.append(text)


def visible_strings(html: str) -> list[str]:
    """The strings of `html` that a user reads (or a screen reader says), in order."""
    parser = _Strings()
    parser.feed(html)
    return [s for s in parser.strings if LETTER.search(s) or ENGLISH_FORMATS.search(s)]


def _bounded(pattern: str, first: str, last: str) -> str:
    start = r"(?<!\w)" if re.match(r"\w", first) else ""
    end = r"(?!\w)" if re.match(r"\w", last) else ""
    return start + pattern + end


def _wiping(data: Iterable[str], language: str) -> list[re.Pattern[str]]:
    """Patterns for the test's data and the catalogue's German values, the longest first
    (counting a text's words, not its placeholders); a placeholder stands for a number or a
    data value (possibly wiped to a space already)."""
    known = sorted({d for d in data if d}, key=len, reverse=True)
    # A language is named in itself in the language picker, as every picker does.
    catalogue = GERMAN.values() if language == "de" else GERMAN.keys()
    texts = {*catalogue, *LANGUAGE_NAMES.values(), BRAND, *known}
    filler = "|".join([*(re.escape(d) for d in known), r"\d[\d.,]*", r"\s+"])
    patterns = []
    for value in sorted(texts, key=lambda v: len(re.sub(r"\{\w+\}", "", v)), reverse=True):
        body = PLACEHOLDER.sub(lambda _: f"(?:{filler})", re.escape(value))
        patterns.append(re.compile(_bounded(body, value[0], value[-1])))
    return patterns


def foreign(html: str, data: Iterable[str], language: str = "de") -> tuple[list[str], int]:
    """The strings of `html` not from the catalogue's `language` side nor `data`, and how
    many were checked. (English keeps ISO dates and "1,234" on purpose.)"""
    strings = visible_strings(html)
    patterns = _wiping(data, language)
    left = []
    for text in strings:
        rest = text
        for pattern in patterns:
            rest = pattern.sub(" ", rest)
        if LETTER.search(rest) or (language == "de" and ENGLISH_FORMATS.search(text)):
            left.append(text)
    return left, len(strings)
