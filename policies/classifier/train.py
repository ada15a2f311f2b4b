"""Trains the classification head: shipped labeled data plus the firm's own corrections.

Shipped data (``data/train_vader.csv``): human-rated English sentences from the sdist of
`vaderSentiment` 3.3.2 (MIT, C.J. Hutto; ``additional_resources/hutto_ICWSM_2014.tar.gz``:
Amazon review snippets, tweets, NYT editorial snippets, each rated by about 20 people from
-4 to +4). Mean rating <= -1 becomes complaint, >= +1 praise, within +-0.3 neutral; the
rest is left out as ambiguous. Regenerate it with
``python -m policies.classifier.train extract vaderSentiment-3.3.2.tar.gz``
(the sdist comes from ``pip download --no-deps --no-binary :all: vaderSentiment==3.3.2``).

No permissively licensed German labeled set exists on PyPI, so German comes from the
multilingual encoder alone until the firm's corrections (weighted up: they are in-domain)
are added by ``kartei classify train``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.events.classification import LABELS
from policies.classifier.model import Encoder, Head

SHIPPED = Path(__file__).parent / "data" / "train_vader.csv"
# Its embeddings by the builtin encoder (fp16), so `kartei classify train` takes seconds.
SHIPPED_EMBEDDINGS = Path(__file__).parent / "data" / "train_vader.e5.npy"
_SETS = {  # file in the VADER archive -> which labels it contributes
    "amazonReviewSnippets_GroundTruth.txt": LABELS,
    "tweets_GroundTruth.txt": LABELS,
    "nytEditorialSnippets_GroundTruth.txt": ("neutral", "complaint"),
}
CORRECTION_WEIGHT = 5.0
TRAINED_ON = "vaderSentiment 3.3.2 human-rated sentences (MIT)"


@dataclass(frozen=True, slots=True)
class Example:
    """A labeled text and how much it counts."""

    text: str
    label: str
    source: str = ""
    weight: float = 1.0


def label_for(valence: float) -> str | None:
    """A VADER mean rating as one of our labels; None when it is too ambiguous."""
    if valence <= -1.0:
        return "complaint"
    if valence >= 1.0:
        return "praise"
    return "neutral" if abs(valence) <= 0.3 else None


def extract_vader(sdist: Path) -> list[Example]:
    """The labeled sentences inside the vaderSentiment sdist."""
    with tarfile.open(sdist) as outer:
        name = next(n for n in outer.getnames() if n.endswith("hutto_ICWSM_2014.tar.gz"))
        archive = outer.extractfile(name).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(archive)) as inner:
        return _examples(inner)


def _examples(inner: tarfile.TarFile) -> list[Example]:
    examples = []
    for member in inner.getmembers():
        name = Path(member.name).name
        if name not in _SETS:
            continue
        raw = inner.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
        for line in raw.splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            label = label_for(float(parts[1]))
            if label in _SETS[name]:
                examples.append(Example(parts[2].strip(), label, name.split("_")[0]))
    return examples


def read_csv(path: Path, weight: float = 1.0) -> list[Example]:
    """Examples from a CSV with columns text and label (source optional)."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not {"text", "label"} <= set(reader.fieldnames or ()):
            raise ValueError(f"{path}: needs the columns text and label")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        if row["label"] not in LABELS or not isinstance(row["text"], str):
            got = str(row["label"])[:40]
            raise ValueError(
                f"{path}: line {line}: label must be one of {', '.join(LABELS)} (got {got!r})"
            )
    return [Example(r["text"], r["label"], r.get("source") or "", weight) for r in rows]


def write_csv(path: Path, examples: Iterable[Example]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "source"])
        writer.writerows((e.text, e.label, e.source) for e in examples)


def embed_all(encoder: Encoder, texts: Sequence[str], cache: Path | None, batch: int = 32) -> Any:
    """Embeddings of `texts`, cached on disk by content (the shipped set takes minutes)."""
    torch = encoder.torch
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = cache / f"embeddings-{digest}.pt" if cache else None
    if path is not None and path.is_file():
        return torch.load(path)
    parts = [encoder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    result = torch.cat(parts) if parts else torch.zeros((0, 384))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(result, path)
    return result


def fit_head(
    x: Any,
    labels: Sequence[str],
    weights: Sequence[float],
    *,
    l2: float = 1e-3,
    version: str,
    trained_on: str,
) -> Head:
    """Multinomial logistic regression, classes balanced, fitted with L-BFGS."""
    import torch

    y = torch.tensor([LABELS.index(label) for label in labels])
    w = torch.tensor(weights, dtype=torch.float32)
    counts = torch.zeros(len(LABELS)).index_add_(0, y, w).clamp(min=1.0)
    w = w * (w.sum() / (len(LABELS) * counts))[y]
    lin = torch.nn.Linear(x.shape[1], len(LABELS))
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = (torch.nn.functional.cross_entropy(lin(x), y, reduction="none") * w).sum()
        loss = loss / w.sum() + l2 * lin.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return Head(
        LABELS, lin.weight.detach().tolist(), lin.bias.detach().tolist(), version, trained_on
    )


def shipped_embeddings(encoder: Encoder, examples: Sequence[Example], cache: Path | None) -> Any:
    """The shipped examples' embeddings: precomputed (fp16, for the builtin encoder) or fresh."""
    torch = encoder.torch
    if SHIPPED_EMBEDDINGS.is_file():
        import numpy as np

        stored = np.load(SHIPPED_EMBEDDINGS)
        if len(stored) == len(examples):
            return torch.from_numpy(stored.astype("float32"))
    return embed_all(encoder, [e.text for e in examples], cache)


def train(
    encoder: Encoder,
    extra: Sequence[Example],
    *,
    cache: Path | None,
    trained_on: str,
    shipped: bool = True,
) -> Head:
    """A head fitted on the shipped examples plus `extra`, versioned by what it saw."""
    base = read_csv(SHIPPED) if shipped else []
    parts = [shipped_embeddings(encoder, base, cache)] if base else []
    if extra:
        parts.append(embed_all(encoder, [e.text for e in extra], None))
    examples = [*base, *extra]
    if not examples:
        raise ValueError("nothing to train on")
    digest = hashlib.sha256(
        "\x00".join(f"{e.label}:{e.weight}:{e.text}" for e in examples).encode()
    ).hexdigest()[:10]
    return fit_head(
        encoder.torch.cat(parts),
        [e.label for e in examples],
        [e.weight for e in examples],
        version=f"head-{digest}",
        trained_on=trained_on,
    )


def main(argv: list[str]) -> None:
    """``extract SDIST`` writes the shipped CSV; ``fit CACHE`` embeds it and trains the head."""
    from policies.classifier.model import DEFAULT_HEAD, ensure_encoder

    if argv[:1] == ["extract"]:
        examples = extract_vader(Path(argv[1]))
        write_csv(SHIPPED, examples)
        print(f"{len(examples)} examples -> {SHIPPED}")
    elif argv[:1] == ["fit"]:
        cache = Path(argv[1])
        encoder = Encoder(ensure_encoder(cache))
        shipped = read_csv(SHIPPED)
        x = embed_all(encoder, [e.text for e in shipped], cache)
        import numpy as np

        np.save(SHIPPED_EMBEDDINGS, x.numpy().astype(np.float16))
        head = train(encoder, [], cache=cache, trained_on=TRAINED_ON)
        head.save(DEFAULT_HEAD)
        print(f"head {head.version} -> {DEFAULT_HEAD}")
    else:
        raise SystemExit("usage: python -m policies.classifier.train extract SDIST | fit CACHE")


if __name__ == "__main__":
    main(sys.argv[1:])
