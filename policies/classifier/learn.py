"""Learning from the firm's own corrections: how much they weigh against the shipped
English sentences, and fine-tuning the encoder's top layers on them (CPU).

Weighting: `kartei classify train` used to count each correction 5 times, so 200
corrections weighed about 1,000 against 8,876 shipped sentences and changed almost
nothing. `correction_weight` gives the corrections together a fixed share of the weight
of the shipped set, whatever their number, so the firm's words count from the start.

Fine-tuning: the lower layers of the encoder stay frozen, so their output (hidden states
per token) is computed once per text; only the top `k` layers and the head are trained,
which costs about k/12 of a full pass per step. The result is the top layers' weights
(a few MB) next to the head, applied over the shipped encoder when the model loads.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.events.classification import LABELS
from policies.classifier.model import E5_PREFIX, MAX_TOKENS, Encoder, Head

# The corrections together weigh this share of the shipped set (at least 5 each).
SHARE = 0.5
MIN_WEIGHT = 5.0


def correction_weight(corrections: int, shipped: int, share: float = SHARE) -> float:
    """How much one correction counts next to `shipped` sentences of weight 1."""
    if corrections <= 0:
        return MIN_WEIGHT
    return max(MIN_WEIGHT, share * shipped / corrections)


@dataclass(frozen=True, slots=True)
class States:
    """Per text: the frozen lower layers' output (tokens x hidden) and the final embedding."""

    lower: list[Any]  # one tensor [tokens, hidden] per text
    embedding: Any  # [texts, hidden], normalized, as the shipped model computes it


def encode(encoder: Encoder, texts: Sequence[str], top: int, batch: int = 16) -> States:
    """One pass over `texts`: the hidden states below the top `top` layers, and the
    embedding of the whole encoder (what a head over the shipped encoder sees)."""
    torch = encoder.torch
    layers = len(encoder.model.encoder.layer)
    lower: list[Any] = []
    pooled = []
    for i in range(0, len(texts), batch):
        tokens = encoder.tokenizer(
            [E5_PREFIX + t for t in texts[i : i + batch]],
            padding=True,
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )
        with torch.inference_mode():
            out = encoder.model(**tokens, output_hidden_states=True)
        mask = tokens["attention_mask"]
        hidden = out.hidden_states[layers - top]
        for row, m in zip(hidden, mask, strict=True):
            lower.append(row[: int(m.sum())].clone())
        pooled.append(_pool(torch, out.last_hidden_state, mask))
    return States(lower, torch.cat(pooled) if pooled else torch.zeros((0, 384)))


def _pool(torch: Any, hidden: Any, mask: Any) -> Any:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


class TopLayers:
    """A trainable copy of the encoder's top `k` layers plus a head over them."""

    def __init__(self, encoder: Encoder, k: int, head: Head) -> None:
        torch = encoder.torch
        self.torch = torch
        self.k = k
        self.layers = torch.nn.ModuleList(
            copy.deepcopy(layer) for layer in encoder.model.encoder.layer[-k:]
        )
        self.linear = torch.nn.Linear(len(head.weight[0]), len(head.labels))
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor(head.weight))
            self.linear.bias.copy_(torch.tensor(head.bias))
        self.labels = head.labels

    def embed(self, lower: Sequence[Any]) -> Any:
        """Embeddings of texts from their lower states, through the (trained) top layers."""
        torch = self.torch
        hidden = torch.nn.utils.rnn.pad_sequence(list(lower), batch_first=True)
        lengths = torch.tensor([len(x) for x in lower])
        mask = (torch.arange(hidden.shape[1])[None, :] < lengths[:, None]).long()
        additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            out = layer(hidden, attention_mask=additive)
            hidden = out[0] if isinstance(out, tuple) else out
        return _pool(torch, hidden, mask)

    def fit(
        self,
        lower: Sequence[Any],
        labels: Sequence[str],
        *,
        epochs: int = 4,
        lr: float = 3e-5,
        head_lr: float = 3e-3,
        batch: int = 16,
        seed: int = 0,
    ) -> TopLayers:
        """Trains the top layers and the head on the examples (classes balanced)."""
        torch = self.torch
        torch.manual_seed(seed)
        order = list(range(len(lower)))
        rng = random.Random(seed)
        y = torch.tensor([LABELS.index(label) for label in labels])
        counts = torch.bincount(y, minlength=len(LABELS)).clamp(min=1).float()
        balance = len(y) / (len(LABELS) * counts)
        optimizer = torch.optim.AdamW(
            [
                {"params": self.layers.parameters(), "lr": lr},
                {"params": self.linear.parameters(), "lr": head_lr},
            ],
            weight_decay=0.01,
        )
        self.layers.train()
        for _ in range(epochs):
            rng.shuffle(order)
            for i in range(0, len(order), batch):
                idx = order[i : i + batch]
                logits = self.linear(self.embed([lower[j] for j in idx]))
                loss = torch.nn.functional.cross_entropy(logits, y[idx], weight=balance)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        self.layers.eval()
        return self

    def probabilities(self, lower: Sequence[Any], batch: int = 32) -> Any:
        torch = self.torch
        parts = []
        with torch.inference_mode():
            for i in range(0, len(lower), batch):
                parts.append(self.linear(self.embed(lower[i : i + batch])).softmax(-1))
        return torch.cat(parts) if parts else torch.zeros((0, len(LABELS)))

    def state(self) -> dict[str, Any]:
        """The trained top layers' weights, by their name in the full encoder."""
        first = -self.k
        out = {}
        for offset, layer in enumerate(self.layers):
            for name, value in layer.state_dict().items():
                out[f"encoder.layer.{first + offset}.{name}"] = value.detach().clone()
        return out

    def head(self, version: str, trained_on: str) -> Head:
        return Head(
            tuple(self.labels),
            self.linear.weight.detach().tolist(),
            self.linear.bias.detach().tolist(),
            version,
            trained_on,
        )


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); nan without both classes."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return math.nan
    ranked = sorted((s, i) for i, s in enumerate(scores))
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[ranked[k][1]] = (i + j) / 2 + 1
        i = j + 1
    pos_ranks = sum(r for r, p in zip(ranks, positive, strict=True) if p)
    return (pos_ranks - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
