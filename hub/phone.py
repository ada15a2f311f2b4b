"""Phone numbers as phone systems send them, normalized to E.164 with `phonenumbers`."""

from __future__ import annotations

import re

import phonenumbers

# Characters people and phone systems put between digits: spaces, slashes, dashes, dots,
# brackets; "(0)" is the German habit of showing the trunk prefix inside +49 (0) 30 ...
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")
_NOISE = re.compile(r"[\s/\-.()]")
# Longer text is not a phone number (the longest written forms are about 40 characters).
MAX_NUMBER_TEXT = 64


def normalize(raw: str | None, region: str = "DE", own_area_code: str | None = None) -> str | None:
    """E.164 for a dialled or displayed number, or None when it is not a phone number.

    `own_area_code` (e.g. "30" or "030") completes local numbers sent without an area
    code, as many PBXs do for calls from the same city.
    """
    if not raw or len(raw) > MAX_NUMBER_TEXT:
        return None
    text = _TRUNK_IN_BRACKETS.sub("", raw.strip())
    text = _NOISE.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text or not re.fullmatch(r"\+?\d+", text):
        return None
    if own_area_code and not text.startswith(("+", "0")) and len(text) <= 8:
        text = "0" + own_area_code.lstrip("0") + text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# An extension written after the number: "ext. 12", "x12", ";ext=12", "Durchwahl 12", "DW 12".
_EXTENSION = re.compile(
    r"(?:\s*;\s*ext=|\s*(?:ext\.?|extension|durchwahl|dw\.?|app\.?|x|#)\s*)(\d{1,6})\s*$",
    re.IGNORECASE,
)
# "+49 30 1234-0": the German way of writing a company switchboard (extension 0).
_SWITCHBOARD = re.compile(r"\d\s*[-‐–]\s*0\s*$")


def split_extension(raw: str) -> tuple[str, str | None]:
    """The number without a written extension suffix, and the extension (or None)."""
    if len(raw) > MAX_NUMBER_TEXT:  # no phone number is this long; spare the regex
        return raw, None
    m = _EXTENSION.search(raw)
    if m is None or not re.search(r"\d", raw[: m.start()]):
        return raw, None
    return raw[: m.start()], m.group(1)


def switchboard_base(raw: str, e164: str) -> str | None:
    """For a number written as a switchboard ("030 1234-0"), the E.164 prefix of its
    direct dials ("+49301234"); None for other numbers."""
    if _SWITCHBOARD.search(raw) and e164.endswith("0"):
        return e164[:-1]
    return None
