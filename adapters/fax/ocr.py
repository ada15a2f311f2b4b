"""Tesseract OCR in a child process (so never on the event loop), and its readiness check."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from adapters.fax.document import DocumentError, page_images

_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)  # one tesseract per core at most
TIMEOUT = 240  # seconds for one fax, all pages (the SMTP sender waits for the answer)


class OcrError(RuntimeError):
    """OCR could not run or failed; the fax is kept without text and retried later."""


def problem(languages: str) -> str | None:
    """Why OCR cannot run now (tesseract or a language pack missing), or None."""
    if shutil.which("tesseract") is None:
        return "tesseract is not installed (Debian package tesseract-ocr)"
    try:
        done = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"tesseract does not run: {err}"
    installed = {line.strip() for line in done.stdout.splitlines()[1:]}
    missing = [lang for lang in languages.split("+") if lang and lang not in installed]
    if missing:
        packs = ", ".join(f"tesseract-ocr-{lang}" for lang in missing)
        return f"OCR language data missing: {'+'.join(missing)} (Debian packages: {packs})"
    return None


def recognize(data: bytes, kind: str, languages: str) -> str:
    """The text of every page; raises OcrError (DocumentError for a damaged document)."""
    if reason := problem(languages):
        raise OcrError(reason)
    with tempfile.TemporaryDirectory(prefix="kartei-ocr-") as tmp:
        folder = Path(tmp)
        pages = page_images(data, kind, folder)
        if not pages:
            raise DocumentError("the document has no pages to read")
        listing = folder / "pages.txt"
        listing.write_text("".join(f"{p}\n" for p in pages))
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per fax; faxes in parallel
        try:
            with _SLOTS:
                done = subprocess.run(
                    ["tesseract", str(listing), "stdout", "-l", languages, "--psm", "3"],
                    capture_output=True, timeout=TIMEOUT, check=False, env=env,
                )  # fmt: skip
        except subprocess.TimeoutExpired as err:
            raise OcrError(f"tesseract took longer than {TIMEOUT} s") from err
        if done.returncode != 0:
            raise OcrError(f"tesseract failed: {done.stderr.decode(errors='replace')[-300:]}")
        return done.stdout.decode("utf-8", "replace").replace("\f", "\n\n").strip()
