"""Whenever a customer writes (email, fax, a note of what they said), classify it.

Runs behind capture as a policy: batches of messages go to the model through a worker
thread (by default the model itself runs in a niced worker process, see worker.py), so
the event loop and capture never wait on it. Each MessageClassified carries an
idempotency key made of the model version and the cause's position, and the runner
moves the checkpoint in the same commit, so a restart resumes where it stopped and
never classifies a message twice with the same model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hub.events import Metadata, NewEvent, Recorded
from hub.events.classification import MessageClassified
from hub.health import ComponentHealth
from hub.policy import Reaction
from policies.classifier.cleanup import customer_words, fax_words
from policies.classifier.model import Prediction

CLASSIFIED_TYPES = ("EmailReceived", "FaxReceived", "FaxTextRecognized", "NoteAdded")


class Model(Protocol):
    name: str
    version: str

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True, slots=True)
class Message:
    """What is classified of one event: the customer's words, and whose they may be."""

    text: str
    sender: str | None = None  # an email address
    contact_id: str | None = None
    number: str | None = None  # a fax sender's E.164 number
    at: datetime | None = None  # when the customer wrote or sent it


def message_of(event: Any) -> Message | None:
    """The customer's own words in an email, fax or note; None when there are none."""
    kind = type(event).__name__
    if kind == "EmailReceived":
        text = customer_words(event.subject, event.text)
        return Message(text, sender=event.sender or None, at=event.date) if text else None
    if kind in ("FaxReceived", "FaxTextRecognized"):
        # The text layer or OCR text (FaxTextRecognized: OCR that ran after capture).
        text = fax_words(event.text)
        return Message(text, number=event.sender, at=event.received_at) if text else None
    if kind == "NoteAdded":
        # Only notes that record what a customer said (a call note), not staff memos.
        if not getattr(event, "customer_words", True):
            return None
        text = (getattr(event, "text", "") or "").strip()
        return Message(text, contact_id=getattr(event, "contact_id", None)) if text else None
    return None


def classified(
    r: Recorded, message: Message, p: Prediction, model: Model, contact_id: str | None
) -> tuple[str, NewEvent]:
    """The MessageClassified event for one message under one model version, with its
    stream; its idempotency key makes a repeat by the same model version a no-op."""
    event = MessageClassified(
        message_position=r.position,
        message_stream=r.stream,
        message_type=r.type_name,
        label=p.label,
        confidence=p.confidence,
        model=model.name,
        model_version=model.version,
        contact_id=contact_id,
        scores=p.scores,
        message_at=message.at or r.recorded_at,
    )
    meta = Metadata(source="classifier", causation_id=str(r.position))
    key = f"classifier:{model.version}:{r.position}"
    return f"classification-{r.position}", NewEvent(event, key, meta)


ContactOf = Callable[[str], Any]  # async (sender address or number) -> contact id | None


class ClassifierPolicy:
    """Labels every customer-written message complaint, praise or neutral."""

    name = "classifier"
    version = 1
    event_types = CLASSIFIED_TYPES

    def __init__(
        self,
        load: Callable[[], Model],
        *,
        contact_of: ContactOf | None = None,
        contact_of_number: ContactOf | None = None,
        contacts_known: Callable[[int], Awaitable[None]] | None = None,
        batch_size: int = 16,
        health: ComponentHealth | None = None,
        model_key: Callable[[], str] | None = None,
    ) -> None:
        self._load = load
        self._model: Model | None = None
        # Which model is in use now (e.g. head and layer files); when it changes (a
        # retrained model was switched to, or rolled back), the model is loaded anew.
        self._model_key = model_key
        self._loaded_key: str | None = None
        self._contact_of = contact_of
        self._contact_of_number = contact_of_number
        # Waits until the contacts written before a position can be looked up (the
        # identity read model may still be catching up when a backlog is classified).
        self._contacts_known = contacts_known
        self.batch_size = batch_size
        self.health = health
        # One worker: the model uses every core itself; two would only contend.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="classifier")
        self.classified = 0

    async def model(self) -> Model:
        """The model, loaded in the worker thread on first use (it takes seconds), and
        again when the model in use changed."""
        key = self._model_key() if self._model_key is not None else None
        if self._model is not None and key != self._loaded_key:
            old, self._model = self._model, None
            close = getattr(old, "close", None)
            if close is not None:
                await asyncio.get_running_loop().run_in_executor(self._executor, close)
        if self._model is None:
            self._model = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._load
            )
            self._loaded_key = key
        return self._model

    async def predict(self, texts: Sequence[str], model: Model | None = None) -> list[Prediction]:
        """Classifies texts in the worker thread, batch by batch."""
        model = model or await self.model()
        loop = asyncio.get_running_loop()
        results: list[Prediction] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = list(texts[i : i + self.batch_size])
            results += await loop.run_in_executor(self._executor, model.predict, chunk)
        return results

    async def react(self, batch: Sequence[Recorded]) -> list[Reaction]:
        found = [(r, m) for r in batch if (m := message_of(r.event)) is not None]
        if not found:
            return []
        model = await self.model()
        predictions = await self.predict([m.text for _, m in found], model)
        if self._contacts_known is not None:
            await self._contacts_known(found[-1][0].position)
        reactions = []
        for (r, message), p in zip(found, predictions, strict=True):
            contact_id = message.contact_id or await self._contact(message)
            reactions.append(Reaction(*classified(r, message, p, model, contact_id)))
        self.classified += len(reactions)
        if self.health is not None:
            self.health.details.update(
                model=model.name, model_version=model.version, classified=self.classified
            )
        return reactions

    async def _contact(self, message: Message) -> str | None:
        """Whose message it is: by email address, or by fax number (then switchboard)."""
        if message.sender and self._contact_of is not None:
            return await self._contact_of(message.sender)
        if message.number and self._contact_of_number is not None:
            return await self._contact_of_number(message.number)
        return None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        close = getattr(self._model, "close", None)
        if close is not None:
            close()
