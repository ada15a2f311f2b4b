"""Only the customer's own words: quoted replies, signatures and disclaimers stripped.

Pure text in, text out. German and English mail conventions: ``>`` quotes, "Am ...
schrieb ...:" / "On ... wrote:", Outlook's "-----Ursprüngliche Nachricht-----" and
"Von: / Gesendet:" header blocks, the ``-- `` signature separator, closing formulas
("Mit freundlichen Grüßen", "Best regards") and legal footers (Amtsgericht, HRB,
confidentiality notices).
"""

from __future__ import annotations

import re

# Longer texts say nothing more about the mood; the encoder reads 512 tokens at most.
MAX_CHARS = 2000

_REPLY_HEADER = re.compile(
    r"^\s*(?:"
    r"am\s.{0,80}\s(?:schrieb\b.{0,120}|hat\s.{0,120}geschrieben)"
    r"|on\s.{0,120}\swrote"
    r"|le\s.{0,80}\sa\sécrit"
    r")\s*:?\s*$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:ursprüngliche nachricht|original message|weitergeleitete nachricht"
    r"|forwarded message)\s*-{2,}",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:von|from)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(?:gesendet|sent|datum|date|an|to|betreff|subject)\s*:", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^(?:--|__+|—)\s*$")
_CLOSING = re.compile(
    r"^\s*(?:mit\s+)?(?:freundlichen|besten|herzlichen|lieben|viele|beste|liebe|schöne)?\s*"
    r"(?:grüßen|grüssen|grüße|grüsse|gruß|gruss)\s*[,.!]?\s*$"
    r"|^\s*(?:mfg|lg|vg|bg)\s*[,.!]?\s*$"
    r"|^\s*(?:best|kind|warm|many thanks and|with kind)?\s*regards\s*[,.!]?\s*$"
    r"|^\s*(?:best wishes|cheers|sincerely|yours sincerely|yours faithfully|best)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_MOBILE = re.compile(
    r"^\s*(?:sent from my|von meinem|gesendet von meinem|get outlook for)\b.*$", re.IGNORECASE
)
_DISCLAIMER = re.compile(
    r"vertraulich|confidential|amtsgericht|registergericht|handelsregister|\bhrb\b"
    r"|geschäftsführ|ust-?id|sitz der gesellschaft|intended recipient|richtigen adressaten"
    r"|unbefugte weitergabe|before printing|vor dem ausdrucken|datenschutzerklärung"
    r"|privacy notice|vorstand:|aufsichtsrat",
    re.IGNORECASE,
)


# A fax's text comes from OCR or a PDF's text layer: words hyphenated at line ends, and
# rules (lines of - _ = ~) from the letterhead that are not a signature separator.
_HYPHENATED = re.compile(r"(\w)-\n[ \t]*(?=[a-zäöüß])")
_RULE = re.compile(r"^\s*[-_=~—–.·*]{3,}\s*$", re.MULTILINE)
# Letter formalities say nothing of the mood and pull the model towards "neutral" (measured:
# a complaint letter read neutral with its salutation, complaint without): page markers
# ("Seite 2 / Page 2", "- 2 -", "1/3") and a salutation alone on its line.
_PAGE_MARK = re.compile(
    r"^\s*(?:(?:seite|page|blatt)\s*\d+(?:\s*(?:/|von|of)\s*\d+)?(?:\s*/\s*page\s*\d+)?"
    r"|-\s*\d+\s*-|\d+\s*/\s*\d+)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SALUTATION = re.compile(
    r"^(?![^\n]*gr(?:ü|ue|u)(?:ß|ss)e)"  # "Liebe Grüße" is a closing, cut by own_part
    r"\s*(?:sehr\s+geehrte[rs]?|liebe[rs]?|hallo|guten\s+tag|moin|dear|hello|hi)\b"
    r"[^\n.!?,:;]{0,50}[,!]?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def fax_words(text: str) -> str:
    """The customer's words in a fax's recognized text, as one text for the model."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _RULE.sub("", _HYPHENATED.sub(r"\1", text))
    text = _SALUTATION.sub("", _PAGE_MARK.sub("", text))
    return own_part(text)[:MAX_CHARS]


def customer_words(subject: str, body: str) -> str:
    """The subject and the customer's own part of the body, as one text for the model."""
    text = own_part(body)
    subject = re.sub(r"^\s*(?:(?:re|aw|wg|fwd?|antw)\s*:\s*)+", "", subject or "", flags=re.I)
    joined = f"{subject.strip()}\n{text}".strip() if subject.strip() else text
    return joined[:MAX_CHARS]


def own_part(body: str) -> str:
    """The body without quoted replies, signature, closing formula and legal footer."""
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _ends_own_part(line, lines[i + 1 : i + 4]):
            break
        if line.lstrip().startswith(">") or _MOBILE.match(line):
            continue
        kept.append(line.rstrip())
    paragraphs = "\n".join(kept).split("\n\n")
    text = "\n\n".join(p for p in paragraphs if not _DISCLAIMER.search(p))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _ends_own_part(line: str, following: list[str]) -> bool:
    if _REPLY_HEADER.match(line) or _ORIGINAL.match(line) or _SIGNATURE.match(line):
        return True
    if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in following):
        return True
    return bool(_CLOSING.match(line))
