"""Phone numbers as phone systems send them, normalized to E.164 with `phonenumbers`."""

from __future__ import annotations

import re

import phonenumbers

# Characters people and phone systems put between digits: spaces, slashes, dashes, dots,
# brackets; "(0)" is the German habit of showing the trunk prefix inside +49 (0) 30 ...
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")
_NOISE = re.compile(r"[\s/\-.()]")


def normalize(raw: str | None, region: str = "DE", own_area_code: str | None = None) -> str | None:
    """E.164 for a dialled or displayed number, or None when it is not a phone number.

    `own_area_code` (e.g. "30" or "030") completes local numbers sent without an area
    code, as many PBXs do for calls from the same city.
    """
    if not raw:
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
