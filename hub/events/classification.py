"""Interpretations of what customers wrote, the churn risk they add up to, and alerts sent.

A classification is derived, never a fact about the message itself (invariant 7): it names
the model and version that made it and points at the classified event by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from hub.events.base import Event

LABELS = ("complaint", "praise", "neutral")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageClassified(Event):
    """A model labelled a customer's message (stream ``classification-<position>``)."""

    message_position: int
    message_stream: str
    message_type: str
    label: str  # complaint, praise, neutral
    confidence: float
    model: str
    model_version: str
    contact_id: str | None = None
    # When the customer wrote it (the message's own time), for time windows.
    message_at: datetime | None = None
    # Per-label probabilities, for thresholds and audits.
    scores: dict[str, float] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassificationCorrected(Event):
    """Staff said what a message really was; the correction is training data."""

    # text_subject too: it names the person (``email:<address>``); sealed, it reads as
    # None once erased and the subject falls back to the contact (docs/privacy.md).
    personal_fields: ClassVar[frozenset[str]] = frozenset({"text", "text_subject"})

    message_position: int
    label: str
    previous_label: str | None = None
    by: str | None = None
    contact_id: str | None = None
    # The cleaned text as classified, kept so corrections can be exported for training.
    text: str = ""
    # The data subject of the classified message (e.g. ``email:<sender>``), so erasing
    # that person also forgets the words copied here.
    text_subject: str | None = None

    def data_subject(self) -> str | None:
        if self.text_subject:
            return self.text_subject
        return f"contact:{self.contact_id}" if self.contact_id else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerAtRisk(Event):
    """A customer's complaints crossed the churn rule (stream ``risk-<contact_id>``)."""

    contact_id: str
    complaints: tuple[int, ...]  # positions of the MessageClassified events that caused it
    score: float
    reason: str  # in English, for logs and the command line
    owner: str | None = None
    # The counts behind `reason` (projections.risk.Reason: complaints, praise, days), so a
    # page or an alert can say it in its reader's language; None in events before them.
    reason_values: dict[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskAcknowledged(Event):
    """A staff member took care of a customer at risk and said how."""

    contact_id: str
    comment: str = ""
    by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertSent(Event):
    """An alert went out to a staff member (stream ``alert-<key>``); never sent twice.

    Its subject names the customer ("Kunde gefährdet: <name>"), so it is sealed with the
    contact's key; an alert without a contact has no subject to seal it with."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"subject"})

    alert_key: str
    channel: str  # telegram, email
    recipient: str
    contact_id: str | None = None
    cause_position: int | None = None
    subject: str = ""

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}" if self.contact_id else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassifierTrained(Event):
    """The classifier was retrained on the firm's corrections (stream ``classifier-model``).

    Both models were scored on a held-back part of the corrections; the new one is used
    only when it scored better (`adopted`). Scores: ``macro_f1``, ``complaint_f1``,
    ``accuracy``; `cross_validated`: the training procedure's scores over k folds of all
    corrections (how well it learns this firm's words)."""

    version: str
    previous_version: str
    adopted: bool
    corrections: int  # corrections it learned from
    held_back: int  # corrections it was scored on (not learned from)
    previous_scores: dict[str, float]
    scores: dict[str, float]
    cross_validated: dict[str, float] | None = None
    finetuned_layers: int = 0  # encoder layers trained besides the head
    seconds: float = 0.0
    by: str | None = None  # a user, or "schedule"
    # The last correction it saw (a position): later ones count as new for the schedule.
    corrections_until: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassifierRolledBack(Event):
    """An admin went back to the model used before (stream ``classifier-model``)."""

    version: str  # the model used from now on
    replaced_version: str
    by: str | None = None


EVENTS: dict[str, type[Event]] = {
    "MessageClassified": MessageClassified,
    "ClassificationCorrected": ClassificationCorrected,
    "CustomerAtRisk": CustomerAtRisk,
    "RiskAcknowledged": RiskAcknowledged,
    "AlertSent": AlertSent,
    "ClassifierTrained": ClassifierTrained,
    "ClassifierRolledBack": ClassifierRolledBack,
}
