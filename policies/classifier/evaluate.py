"""Scores of a classifier on a labeled set: precision, recall, F1 per label, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.events.classification import LABELS


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-label precision/recall/F1, accuracy, macro F1 and the confusion matrix."""

    per_label: dict[str, dict[str, float]]
    accuracy: float
    macro_f1: float
    # confusion[true][predicted] = count
    confusion: dict[str, dict[str, int]]
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "labels": self.per_label,
            "confusion": self.confusion,
        }


def score(truth: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Compares predicted labels with the true ones."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    confusion = {t: dict.fromkeys(LABELS, 0) for t in LABELS}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_label = {}
    for label in LABELS:
        tp = confusion[label][label]
        predicted_n = sum(confusion[t][label] for t in LABELS)
        true_n = sum(confusion[label].values())
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / true_n if true_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "support": true_n,
        }
    correct = sum(confusion[label][label] for label in LABELS)
    return Scores(
        per_label,
        round(correct / len(truth), 3) if truth else 0.0,
        round(sum(v["f1"] for v in per_label.values()) / len(LABELS), 3),
        confusion,
        len(truth),
    )


def render(scores: Scores) -> str:
    """A plain-text report of the scores and the confusion matrix."""
    lines = [f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for label, s in scores.per_label.items():
        lines.append(
            f"{label:<10} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} "
            f"{s['support']:>8}"
        )
    lines.append(
        f"accuracy {scores.accuracy:.3f}   macro F1 {scores.macro_f1:.3f}   n={scores.count}"
    )
    lines.append("")
    lines.append("confusion (rows: true, columns: predicted)")
    lines.append(" " * 10 + "".join(f"{p:>11}" for p in LABELS))
    for t in LABELS:
        lines.append(f"{t:<10}" + "".join(f"{scores.confusion[t][p]:>11}" for p in LABELS))
    return "\n".join(lines)
