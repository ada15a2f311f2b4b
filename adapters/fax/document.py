"""The fax document: page count, PDF text layer, first-page preview, page images for OCR.

PDFs are read with pypdf and rendered with poppler's pdftoppm; TIFFs (G3/G4 as fax
machines write them) with Pillow. Fax resolution is often 200x100 dpi (pixels twice as
tall as wide): pages are stretched to square pixels before preview and OCR.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError
from pypdf import PdfReader

MAX_PAGES = 200
PREVIEW_WIDTH = 600
OCR_DPI = 200
_TEXT_LAYER_MIN = 20  # characters; fewer means a scanned PDF without real text


class DocumentError(ValueError):
    """The document is damaged, empty or not what it claims to be."""


@dataclass(frozen=True, slots=True)
class Document:
    pages: int
    text: str  # the PDF text layer ("" for TIFF and scanned PDFs)
    preview_png: bytes | None


def read_document(data: bytes, kind: str) -> Document:
    """Page count, text layer and preview; raises DocumentError for unreadable input."""
    if not data:
        raise DocumentError(f"empty {kind.upper()} (0 bytes)")
    try:
        return _read_pdf(data) if kind == "pdf" else _read_tiff(data)
    except DocumentError:
        raise
    except Exception as err:  # pypdf and Pillow raise many kinds for damaged files
        raise DocumentError(f"unreadable {kind.upper()}: {type(err).__name__}: {err}") from err


def _read_pdf(data: bytes) -> Document:
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    if pages == 0:
        raise DocumentError("PDF without pages")
    text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages[:MAX_PAGES])
    if len(text.strip()) < _TEXT_LAYER_MIN:
        text = ""
    return Document(pages, text.strip(), _pdf_preview(data))


def _pdf_preview(data: bytes) -> bytes | None:
    if shutil.which("pdftoppm") is None:
        return None
    done = subprocess.run(
        ["pdftoppm", "-png", "-gray", "-f", "1", "-l", "1", "-singlefile", "-scale-to-x",
         str(PREVIEW_WIDTH), "-scale-to-y", "-1", "-"],
        input=data, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    return done.stdout if done.returncode == 0 and done.stdout else None


def _read_tiff(data: bytes) -> Document:
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as err:
        raise DocumentError("not a TIFF image") from err
    pages = getattr(image, "n_frames", 1)
    image.seek(0)
    first = square_pixels(image)
    first.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2))
    out = io.BytesIO()
    first.save(out, format="PNG", optimize=True)
    return Document(pages, "", out.getvalue())


def square_pixels(frame: Image.Image) -> Image.Image:
    """A grey copy of one page, stretched so that x and y resolution are equal."""
    page = frame.convert("L")
    dpi = frame.info.get("dpi") or (0, 0)
    try:
        xres, yres = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return page
    if xres > 0 and yres > 0 and abs(xres - yres) > 1:
        height = max(1, round(page.height * xres / yres))
        page = page.resize((page.width, height), Image.Resampling.BILINEAR)
    return page


def page_images(data: bytes, kind: str, folder: Path) -> list[Path]:
    """Writes each page as a PNG fit for OCR into `folder`; raises DocumentError."""
    if kind == "pdf":
        if shutil.which("pdftoppm") is None:
            raise DocumentError("pdftoppm (Debian package poppler-utils) is not installed")
        done = subprocess.run(
            ["pdftoppm", "-png", "-gray", "-r", str(OCR_DPI), "-l", str(MAX_PAGES), "-",
             str(folder / "page")],
            input=data, capture_output=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise DocumentError(f"pdftoppm failed: {done.stderr.decode(errors='replace')[:300]}")
        return sorted(folder.glob("page*.png"))
    try:
        image = Image.open(io.BytesIO(data))
        paths = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= MAX_PAGES:
                break
            path = folder / f"page-{index:03d}.png"
            square_pixels(frame).save(path, format="PNG")
            paths.append(path)
        return paths
    except Exception as err:
        raise DocumentError(f"unreadable TIFF: {type(err).__name__}: {err}") from err
