"""OCR for faxes captured without text: a policy that reads them once OCR can run.

A fax whose OCR could not run (tesseract or a language pack missing, a timeout) is stored
with ``ocr_status="pending"``. This policy OCRs it and appends FaxTextRecognized to the
fax's stream. While OCR cannot run, `react` raises OcrError with the reason: the
supervisor shows it on the policy's health and retries with backoff, so no fax is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence

from adapters.fax import ocr
from adapters.fax.document import DocumentError
from adapters.fax.parsing import FAX_TYPES, kind_by_content
from hub.archive import Archive, ArchiveError
from hub.events import Metadata, NewEvent, Recorded
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.policy import Reaction

log = logging.getLogger(__name__)


class FaxOcrPolicy:
    """Recognizes the text of faxes captured with OCR pending."""

    name = "fax-ocr"
    version = 1
    event_types: Collection[str] | None = ("FaxReceived",)

    def __init__(self, archive: Archive, languages: str = "deu+eng") -> None:
        self.archive = archive
        self.languages = languages

    async def react(self, batch: Sequence[Recorded]) -> Sequence[Reaction]:
        reactions = []
        for recorded in batch:
            fax = recorded.event
            if not isinstance(fax, FaxReceived) or fax.ocr_status != "pending":
                continue
            if not fax.document_ref:  # erased (crypto-shredded) or never stored
                continue
            text = await asyncio.to_thread(self._recognize, fax)
            if text is None:
                continue
            event = FaxTextRecognized(
                fax_stream=recorded.stream,
                sender=fax.sender,
                sender_raw=fax.sender_raw,
                text=text,
                languages=self.languages,
                received_at=fax.received_at,
            )
            key = f"{self.name}:{recorded.stream}"
            meta = Metadata(source=self.name, causation_id=str(recorded.position))
            reactions.append(Reaction(recorded.stream, NewEvent(event, key, meta)))
        return reactions

    def _recognize(self, fax: FaxReceived) -> str | None:
        """The text, or None when this fax's document cannot be read (logged, skipped)."""
        if reason := ocr.problem(self.languages):
            raise ocr.OcrError(reason)  # the supervisor shows it and retries later
        try:
            data = self.archive.get(fax.document_ref)
        except ArchiveError as err:
            log.warning("fax OCR: document missing: %s", err)
            return None
        kind = kind_by_content(data) or FAX_TYPES.get(fax.document_type, "tiff")
        try:
            return ocr.recognize(data, kind, self.languages)
        except (DocumentError, ocr.OcrError) as err:  # this document, not the machine
            log.warning("fax OCR: gave up on document %s: %s", fax.document_ref[:20], err)
            return None
