"""Retraining on the firm's corrections, with a gate and a way back.

Models live in ``<data_dir>/classifier/models/<version>/`` (``head.json``, and
``top.safetensors`` when encoder layers were fine-tuned); ``current.json`` names the one
in use and the ones used before it (for `kartei classify rollback`).

`train_candidate` holds back a quarter of the corrections (at least `MIN_HELD_BACK`),
trains on the shipped sentences plus the rest (the corrections weighted by
`learn.correction_weight`; the encoder's top layers too once there are
`FINETUNE_FROM` corrections to learn from, where the learning curve showed it helps),
and scores both the model in use and the candidate on the held-back part. The caller
switches only when the candidate scored better.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.events.classification import LABELS
from policies.classifier.evaluate import score
from policies.classifier.learn import TopLayers, correction_weight, encode
from policies.classifier.model import DEFAULT_HEAD, Encoder, Head
from policies.classifier.train import (
    SHIPPED,
    TRAINED_ON,
    fit_head,
    read_csv,
    shipped_embeddings,
)

MIN_HELD_BACK = 10  # fewer corrections held back say nothing about which model is better
HELD_BACK_SHARE = 0.25
FINETUNE_FROM = 150  # corrections to learn from before the encoder's top layers are trained
TOP_LAYERS = 2
FOLDS = 5
TOP_FILE = "top.safetensors"


class NotEnoughCorrectionsError(ValueError):
    """Too few corrections to hold some back and compare."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A trained model (not yet in use) and how it and the current one scored."""

    version: str
    head: Head
    top: dict[str, Any] | None  # trained top layers' weights, or None (head only)
    corrections: int
    held_back: int
    scores: dict[str, float]
    previous_scores: dict[str, float]
    cross_validated: dict[str, float] | None
    seconds: float
    finetuned_layers: int = 0

    @property
    def better(self) -> bool:
        return self.scores["macro_f1"] > self.previous_scores["macro_f1"]


@dataclass
class Registry:
    """The firm's models on disk and which one is in use."""

    root: Path  # <data_dir>/classifier
    current: str | None = None
    previous: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, root: Path) -> Registry:
        path = root / "current.json"
        if not path.is_file():
            return cls(root)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(root, data.get("version"), list(data.get("previous", [])))

    def folder(self, version: str) -> Path:
        return self.root / "models" / version

    def head(self) -> Path | None:
        """The head in use, or None (then the legacy or shipped head)."""
        if self.current is None:
            return None
        path = self.folder(self.current) / "head.json"
        return path if path.is_file() else None

    def top(self) -> Path | None:
        if self.current is None:
            return None
        path = self.folder(self.current) / TOP_FILE
        return path if path.is_file() else None

    def save(self, candidate: Candidate) -> Path:
        """Writes the candidate's files (not yet in use)."""
        folder = self.folder(candidate.version)
        folder.mkdir(parents=True, exist_ok=True)
        candidate.head.save(folder / "head.json")
        if candidate.top is not None:
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in candidate.top.items()}, folder / TOP_FILE)
        return folder

    def use(self, version: str) -> None:
        """Switches to `version`, remembering the one before."""
        if self.current is not None and self.current != version:
            self.previous.append(self.current)
        self.current = version
        self._write()

    def rollback(self) -> str | None:
        """Back to the model used before; None when there is none (then the shipped one)."""
        if self.current is None:
            raise ValueError("no trained model is in use; nothing to go back from")
        self.current = self.previous.pop() if self.previous else None
        self._write()
        return self.current

    def _write(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = {"version": self.current, "previous": self.previous[-20:]}
        partial = self.root / f"current.json.{os.getpid()}.partial"
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(self.root / "current.json")

    def prune(self, keep: int = 5) -> None:
        """Deletes model folders neither in use nor among the last `keep` before it."""
        wanted = {self.current, *self.previous[-keep:]}
        models = self.root / "models"
        for folder in models.iterdir() if models.is_dir() else ():
            if folder.name not in wanted:
                shutil.rmtree(folder, ignore_errors=True)


def apply_top(encoder: Encoder, path: Path) -> None:
    """Loads fine-tuned top layers over the shipped encoder."""
    from safetensors.torch import load_file

    weights = load_file(str(path))
    missing = [k for k in weights if not k.startswith("encoder.layer.")]
    if missing:
        raise ValueError(f"{path}: unexpected weights {missing[:3]}")
    layers = encoder.model.encoder.layer
    for name, value in weights.items():
        _, _, index, rest = name.split(".", 3)
        layer = layers[int(index)]
        state = layer.state_dict()
        state[rest] = value
        layer.load_state_dict(state)


def split(
    corrections: Sequence[tuple[str, str]], seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(to learn from, held back): a quarter held back, at least MIN_HELD_BACK."""
    held = max(MIN_HELD_BACK, round(len(corrections) * HELD_BACK_SHARE))
    if len(corrections) < held + MIN_HELD_BACK:
        raise NotEnoughCorrectionsError(
            f"{len(corrections)} corrections: at least {2 * MIN_HELD_BACK} are needed to "
            "hold some back and compare the new model with the one in use"
        )
    order = list(range(len(corrections)))
    random.Random(seed).shuffle(order)
    return [corrections[i] for i in order[held:]], [corrections[i] for i in order[:held]]


def scores_of(truth: Sequence[str], probs: Any) -> dict[str, float]:
    predicted = [LABELS[int(i)] for i in probs.argmax(-1)]
    s = score(list(truth), predicted)
    return {
        "macro_f1": s.macro_f1,
        "complaint_f1": s.per_label["complaint"]["f1"],
        "accuracy": s.accuracy,
    }


def _head_probs(torch: Any, head: Head, x: Any) -> Any:
    w = torch.tensor(head.weight, dtype=torch.float32)
    return (x @ w.T + torch.tensor(head.bias, dtype=torch.float32)).softmax(-1)


def train_candidate(
    encoder: Encoder,
    corrections: Sequence[tuple[str, str]],
    current: Callable[[Sequence[str]], Any],
    *,
    finetune: bool | None = None,
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
) -> Candidate:
    """A new model trained on the shipped data plus the corrections it may learn from,
    scored against the model in use (`current`: texts -> probabilities) on the rest.

    `encoder` must be the shipped encoder (no fine-tuned layers applied)."""
    torch = encoder.torch
    started = time.perf_counter()
    learn, held = split(corrections, seed)
    shipped = read_csv(SHIPPED)
    x_shipped = shipped_embeddings(encoder, shipped, None)
    y_shipped = [e.label for e in shipped]
    finetune = len(learn) >= FINETUNE_FROM if finetune is None else finetune
    top = TOP_LAYERS if finetune else 0
    log(f"encoding {len(corrections)} corrections")
    texts = [t for t, _ in learn]
    states = encode(encoder, texts + [t for t, _ in held], max(top, 1))
    x_learn, x_held = states.embedding[: len(learn)], states.embedding[len(learn) :]
    labels = [label for _, label in learn]
    weight = correction_weight(len(learn), len(shipped))
    digest = hashlib.sha256(
        "\x00".join(f"{label}:{text}" for text, label in learn).encode()
    ).hexdigest()[:10]
    version = f"{'top' if top else 'head'}-{digest}"
    trained_on = f"{TRAINED_ON} + {len(learn)} corrections (weight {weight:.1f} each)"
    log("fitting the head")
    head = fit_head(
        torch.cat([x_shipped, x_learn]),
        [*y_shipped, *labels],
        [1.0] * len(shipped) + [weight] * len(learn),
        version=version,
        trained_on=trained_on,
    )
    truth = [label for _, label in held]
    weights = None
    if top:
        log(f"fine-tuning the encoder's top {top} layers on {len(learn)} corrections")
        layers = TopLayers(encoder, top, head).fit(states.lower[: len(learn)], labels, seed=seed)
        probs = layers.probabilities(states.lower[len(learn) :])
        head = layers.head(version, trained_on + f", top {top} layers fine-tuned")
        weights = layers.state()
    else:
        probs = _head_probs(torch, head, x_held)
    log("scoring both models on the held-back corrections")
    new_scores = scores_of(truth, probs)
    old_scores = scores_of(truth, current([t for t, _ in held]))
    cv = cross_validate(torch, x_shipped, y_shipped, states.embedding, corrections, seed)
    return Candidate(
        version,
        head,
        weights,
        len(learn),
        len(held),
        new_scores,
        old_scores,
        cv,
        round(time.perf_counter() - started, 1),
        top,
    )


def cross_validate(
    torch: Any,
    x_shipped: Any,
    y_shipped: Sequence[str],
    x_corrections: Any,
    corrections: Sequence[tuple[str, str]],
    seed: int = 0,
    folds: int = FOLDS,
) -> dict[str, float] | None:
    """The head-only procedure's scores over `folds` folds of all corrections (each
    correction predicted once, by a head that did not learn from it)."""
    if len(corrections) < folds * 8:
        return None
    order = list(range(len(corrections)))
    random.Random(seed + 1).shuffle(order)
    predicted: dict[int, Any] = {}
    for k in range(folds):
        test = order[k::folds]
        train = [i for i in order if i not in set(test)]
        weight = correction_weight(len(train), len(y_shipped))
        head = fit_head(
            torch.cat([x_shipped, x_corrections[train]]),
            [*y_shipped, *(corrections[i][1] for i in train)],
            [1.0] * len(y_shipped) + [weight] * len(train),
            version="cv",
            trained_on="cv",
        )
        for i, p in zip(test, _head_probs(torch, head, x_corrections[test]), strict=True):
            predicted[i] = p
    indices = sorted(predicted)
    probs = torch.stack([predicted[i] for i in indices])
    return scores_of([corrections[i][1] for i in indices], probs)


def shipped_head() -> Path:
    return DEFAULT_HEAD
