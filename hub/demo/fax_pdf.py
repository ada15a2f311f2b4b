"""A one-page PDF with a real text layer, as fax services deliver a fax of a typed letter.

Written by hand (the PDF 1.4 objects and cross-reference table), so the demo needs no PDF
library: Helvetica with WinAnsiEncoding, which covers German umlauts and ß.
"""

from __future__ import annotations


def text_pdf(lines: list[str]) -> bytes:
    """A PDF page (A4) showing `lines` top down in 12 pt Helvetica."""
    stream = _content(lines)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _content(lines: list[str]) -> bytes:
    ops = [b"BT", b"/F1 12 Tf", b"72 770 Td", b"16 TL"]
    for line in lines:
        ops.append(b"(" + _escaped(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _escaped(line: str) -> bytes:
    text = line.encode("cp1252", "replace")
    return text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
