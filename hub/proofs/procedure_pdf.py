"""The Verfahrensdokumentation as PDF: the same HTML as `procedure.render` (one template,
one source of truth), laid out by fpdf2 (the `pdf` extra: pure Python, embeds a font).

German needs more than the PDF core fonts (Latin-1: no „“ or –), so the document embeds
DejaVu Sans where the system has it (Debian: fonts-dejavu-core); without it, it falls
back to Helvetica and writes those few characters in their Latin-1 forms.
"""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from typing import Any

EXTRA = "pdf"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
)
_STYLES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_MONO = "DejaVuSansMono.ttf"
_LATIN1 = str.maketrans({"„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'", "–": "-"})


class PdfUnavailableError(RuntimeError):
    """fpdf2 is not installed (the `pdf` extra)."""


def to_pdf(document: str, *, font_dirs: tuple[Path, ...] = FONT_DIRS) -> bytes:
    """The PDF of a document `procedure.render` wrote (HTML)."""
    try:
        from fpdf import FPDF
        from fpdf.fonts import TextStyle
    except ImportError as err:
        raise PdfUnavailableError(
            f"writing PDF needs fpdf2: pip install 'kartei[{EXTRA}]' (or write HTML)"
        ) from err

    title = htmllib.unescape(_between(document, "<title>", "</title>"))
    body = _between(document, "<body>", "</body>")

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(size=8)
            self.cell(0, 8, f"{title} · Seite {self.page_no()} von {{nb}}", align="C")

    pdf = Document(format="A4")
    pdf.set_title(title)
    pdf.set_lang("de")
    pdf.set_creator("Kartei")
    pdf.set_margins(18, 15, 18)
    family, mono = _fonts(pdf, font_dirs)
    if family == "helvetica":
        body, title = body.translate(_LATIN1), title.translate(_LATIN1)
        body = body.encode("latin-1", "replace").decode("latin-1")
        title = title.encode("latin-1", "replace").decode("latin-1").replace("·", "-")
    pdf.set_font(family, size=10)
    pdf.add_page()
    pdf.write_html(
        _for_fpdf(body),
        font_family=family,
        table_line_separators=True,
        tag_styles={
            "h1": TextStyle(color="#000000", font_size_pt=17, t_margin=0, b_margin=4),
            "h2": TextStyle(color="#000000", font_size_pt=13, t_margin=5, b_margin=2),
            "code": TextStyle(font_family=mono, font_size_pt=9),
            "pre": TextStyle(font_family=mono, font_size_pt=8),
        },
    )
    return bytes(pdf.output())


def _fonts(pdf: Any, font_dirs: tuple[Path, ...]) -> tuple[str, str]:
    """The text and the code font: DejaVu where installed, else the core fonts."""
    for folder in font_dirs:
        if all((folder / name).is_file() for name in (*_STYLES.values(), _MONO)):
            for style, name in _STYLES.items():
                pdf.add_font("DejaVu", style, str(folder / name))
            pdf.add_font("DejaVu", "BI", str(folder / _STYLES["B"]))
            pdf.add_font("DejaVuMono", "", str(folder / _MONO))
            return "DejaVu", "DejaVuMono"
    return "helvetica", "courier"


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start) : text.rindex(end)]


def _for_fpdf(body: str) -> str:
    """What fpdf2's HTML reader lays out well: white space collapsed outside <pre> (it
    keeps a line break inside a table cell), cells left-aligned (it justifies them), the
    first column of a two-column table narrower (it splits columns evenly otherwise)."""
    parts = re.split(r"(<pre>.*?</pre>)", body, flags=re.DOTALL)
    body = "".join(p if p.startswith("<pre>") else re.sub(r"\s+", " ", p) for p in parts)
    body = body.replace("<td>", '<td align="left">')
    return re.sub(
        r"<table><tr><th>([^<]*)</th><th>([^<]*)</th></tr>",
        r'<table><tr><th width="30%">\1</th><th width="70%">\2</th></tr>',
        body,
    )
