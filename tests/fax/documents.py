"""Fax-like documents with known text: G3/G4 TIFFs, scanned PDFs and PDFs with a text layer.

Pages are rendered with a real font (DejaVu Sans, Debian fonts-dejavu-core) at fax
resolution (200x200 or 200x100 dpi, 1-bit) the way fax machines deliver them.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WIDTH = 1728  # pixels of a fax line (A4 at ~200 dpi)

GERMAN = [
    "Reklamation zur Lieferung vom 12. März",
    "Sehr geehrte Damen und Herren,",
    "die Ware für Bäckerei Müller ist beschädigt.",
    "Bitte um schnellen Rückruf. Grüße aus Köln",
]
ENGLISH = [
    "Purchase order number 4711",
    "Please deliver twelve boxes of screws",
    "to our warehouse before Friday.",
    "Kind regards, Jones Engineering",
]


def render(lines: list[str], page: int, *, fine: bool = True) -> Image.Image:
    """One 1-bit page; `fine` is 200x200 dpi, otherwise 200x100 (half the height)."""
    height = 2200
    image = Image.new("L", (WIDTH, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    y = 160
    for line in [f"Seite {page} / Page {page}", *lines]:
        draw.text((140, y), line, font=font, fill=0)
        y += 90
    if not fine:
        image = image.resize((WIDTH, height // 2), Image.Resampling.BILINEAR)
    return image.point(lambda v: 255 if v > 128 else 0).convert("1")


def tiff(pages: list[list[str]], *, compression: str = "group4", fine: bool = True) -> bytes:
    """A multi-page G3/G4 TIFF as fax machines write them."""
    images = [render(lines, i + 1, fine=fine) for i, lines in enumerate(pages)]
    out = io.BytesIO()
    dpi = (200, 200) if fine else (200, 100)
    images[0].save(
        out,
        format="TIFF",
        compression=compression,
        dpi=dpi,
        save_all=True,
        append_images=images[1:],
    )
    return out.getvalue()


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of page images only (no text layer), as most fax services send."""
    images = [render(lines, i + 1).convert("L") for i, lines in enumerate(pages)]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with a real text layer (Helvetica, WinAnsi: umlauts included), written by hand."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in below)
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")  # fmt: skip
    kids = []
    for number, lines in enumerate(pages, 1):
        text = [f"Seite {number}", *lines]
        ops = ["BT", "/F1 14 Tf", "72 770 Td", "18 TL"]
        for line in text:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) '")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, content_id)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for index, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
