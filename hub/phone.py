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
# Numbers this long without "+", "00" or the trunk 0 may be international ones sent
# without their prefix; shorter ones are local numbers (a German subscriber number has
# at most 8 digits).
LOCAL_DIGITS = 8


def normalize(raw: str | None, region: str = "DE", own_area_code: str | None = None) -> str | None:
    """E.164 for a dialled or displayed number, or None when it is not a phone number.

    `own_area_code` (e.g. "30" or "030") completes local numbers sent without an area
    code, as many PBXs do for calls from the same city. Digits without a prefix are read
    as `readings` explains.
    """
    found = readings(raw, region, own_area_code)
    return found[0] if found else None


def readings(
    raw: str | None, region: str = "DE", own_area_code: str | None = None
) -> tuple[str, ...]:
    """The E.164 numbers a number as sent can stand for, the likeliest first; () when it
    is not a phone number.

    Phone systems send international numbers without "+" or "00" (sipgate, Zammad-style
    CTI, many SIP trunks: "491518275367"), and a few send national ones without the
    trunk 0 ("301234567"). Longer digits without a prefix get both readings: the
    international one first when it is a valid number and the national one is not, or
    when the digits begin with the region's own country code (a national number without
    its trunk 0 begins with it only in the 049x areas); otherwise the national one first.
    The identity index tries the second reading when the first matches nobody.
    """
    text = _digits(raw)
    if text is None:
        return ()
    if text.startswith(("+", "0")) or len(text) <= LOCAL_DIGITS:
        if own_area_code and not text.startswith(("+", "0")):
            text = "0" + own_area_code.lstrip("0") + text
        national = _parsed(text, region)
        return () if national is None else (_e164(national),)
    return _ranked(text, region)


def _digits(raw: str | None) -> str | None:
    """ "+" and digits, without the spaces, dashes and "(0)" people write; None for text
    that is not a number."""
    if not raw or len(raw) > MAX_NUMBER_TEXT:
        return None
    text = _TRUNK_IN_BRACKETS.sub("", raw.strip())
    text = _NOISE.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    return text if text and re.fullmatch(r"\+?\d+", text) else None


def _ranked(digits: str, region: str) -> tuple[str, ...]:
    """Both readings of digits sent without a prefix, the likelier first."""
    national, international = _parsed(digits, region), _parsed("+" + digits, region)
    if international is None or (national is not None and _e164(national) == _e164(international)):
        return () if national is None else (_e164(national),)
    if national is None:
        return (_e164(international),)
    own_code = phonenumbers.country_code_for_region(region)
    if (own_code and digits.startswith(str(own_code))) or (
        phonenumbers.is_valid_number(international) and not phonenumbers.is_valid_number(national)
    ):
        return (_e164(international), _e164(national))
    return (_e164(national), _e164(international))


def _parsed(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The number `phonenumbers` reads, if a number of that length can exist there."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def written_form(number: str | None, region: str = "DE") -> str:
    """A number as people in `region` write it: "030 123456" at home, "+43 1 23456789"
    abroad (its own country's grouping after the code); other text as it is."""
    parsed = _parsed(number, region) if number else None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return number or ""  # grouping a number that cannot exist would misstate it
    style = phonenumbers.PhoneNumberFormat
    home = phonenumbers.region_code_for_number(parsed) == region
    return phonenumbers.format_number(parsed, style.NATIONAL if home else style.INTERNATIONAL)


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
