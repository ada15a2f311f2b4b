"""Learning curve on the German evaluation set: how the classifier improves with the firm's
corrections.

    nice -n 10 python bench/learning.py [--quick] [--seeds 5] [--sizes 0,50,100,200,400]
                                        [--top 2] [--epochs 4] [--threads 2]

For each seed the 617 messages of bench/data/german_feedback.jsonl are shuffled; the
first (617 - largest size) are the test set, from the rest the first n play the firm's
corrections. After n corrections, three ways of learning are scored on the test set:

- ``head_5x``: the head refitted on the shipped English sentences plus the corrections
  counted 5 times each (what `kartei classify train` did before);
- ``head``: the same, the corrections weighted to half of the shipped set's weight
  (policies/classifier/learn.py `correction_weight`);
- ``finetune``: starting from ``head``, the encoder's top `--top` layers and the head
  trained on the corrections (lower layers frozen, CPU).

Scores: complaint F1, macro F1, complaint ROC AUC (complaint probability against the
rest); mean and standard deviation over seeds; training seconds and peak memory.
The last printed line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.events.classification import LABELS  # noqa: E402
from policies.classifier.evaluate import score  # noqa: E402
from policies.classifier.learn import (  # noqa: E402
    MIN_WEIGHT,
    TopLayers,
    correction_weight,
    encode,
    roc_auc,
)
from policies.classifier.model import Encoder, ensure_encoder  # noqa: E402
from policies.classifier.train import SHIPPED, fit_head, read_csv, shipped_embeddings  # noqa: E402

DATA = ROOT / "bench" / "data" / "german_feedback.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def metrics(probs: Any, truth: list[str]) -> dict[str, float]:
    predicted = [LABELS[int(i)] for i in probs.argmax(-1)]
    s = score(truth, predicted)
    complaint = [float(p[LABELS.index("complaint")]) for p in probs]
    auc = roc_auc(complaint, [t == "complaint" for t in truth])
    return {
        "complaint_f1": s.per_label["complaint"]["f1"],
        "macro_f1": s.macro_f1,
        "complaint_auc": round(auc, 3),
    }


def states(encoder: Encoder, texts: list[str], top: int, cache: Path) -> Any:
    """The German set's lower states and embeddings, cached on disk (one encoder pass)."""
    torch = encoder.torch
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:12]
    path = cache / f"german-states-{digest}-top{top}.pt"
    if path.is_file():
        lower, embedding = torch.load(path)
    else:
        found = encode(encoder, texts, top)
        lower, embedding = found.lower, found.embedding
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save((lower, embedding), path)
    return lower, embedding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, sizes 0,50,200, fine-tuning at 50 only"
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-finetune", action="store_true", help="head-only curves")
    parser.add_argument("--sizes", default="0,50,100,200,400")
    parser.add_argument("--top", type=int, default=2, help="encoder layers fine-tuned")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "kartei")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds, finetune_up_to = args.seeds, max(sizes)
    if args.quick:
        sizes, seeds, finetune_up_to = [0, 50, 200], 2, 50
    if args.no_finetune:
        finetune_up_to = 0

    start = time.perf_counter()
    encoder = Encoder(ensure_encoder(args.cache / "models"), threads=args.threads)
    torch = encoder.torch
    rows = load(args.data)
    texts = [r["text"] for r in rows]
    truth_all = [r["label"] for r in rows]
    t0 = time.perf_counter()
    lower, embedding = states(encoder, texts, args.top, args.cache / "bench")
    encode_seconds = round(time.perf_counter() - t0, 1)
    shipped = read_csv(SHIPPED)
    x_shipped = shipped_embeddings(encoder, shipped, args.cache)
    y_shipped = [e.label for e in shipped]
    setup_mb = peak_mb()

    test_n = len(rows) - max(sizes)
    runs: list[dict[str, Any]] = []
    for seed in range(seeds):
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        test, pool = order[:test_n], order[test_n:]
        truth = [truth_all[i] for i in test]
        for n in sizes:
            train = pool[:n]
            labels = [truth_all[i] for i in train]
            x = torch.cat([x_shipped, embedding[train]]) if n else x_shipped
            heads = {}
            for mode, weight in (
                ("head_5x", MIN_WEIGHT),
                ("head", correction_weight(n, len(shipped))),
            ):
                if n == 0 and mode == "head_5x":
                    continue  # the same as head without corrections
                t = time.perf_counter()
                head = fit_head(
                    x,
                    [*y_shipped, *labels],
                    [1.0] * len(shipped) + [weight] * n,
                    version=f"bench-{seed}-{n}",
                    trained_on="bench",
                )
                seconds = time.perf_counter() - t
                heads[mode] = head
                w = torch.tensor(head.weight)
                probs = (embedding[test] @ w.T + torch.tensor(head.bias)).softmax(-1)
                runs.append(
                    {"mode": mode, "n": n, "seed": seed, "seconds": round(seconds, 2)}
                    | metrics(probs, truth)
                )
            print(f"seed {seed} n {n}: {runs[-1]}", file=sys.stderr, flush=True)
            if 0 < n <= finetune_up_to:
                t = time.perf_counter()
                top = TopLayers(encoder, args.top, heads["head"])
                top.fit([lower[i] for i in train], labels, epochs=args.epochs, seed=seed)
                seconds = time.perf_counter() - t
                probs = top.probabilities([lower[i] for i in test])
                runs.append(
                    {"mode": "finetune", "n": n, "seed": seed, "seconds": round(seconds, 2)}
                    | metrics(probs, truth)
                )
                print(f"seed {seed} n {n}: {runs[-1]}", file=sys.stderr, flush=True)

    curve = summarize(runs, sizes)
    result = {
        "benchmark": "learning",
        "data": str(args.data.relative_to(ROOT)) if args.data.is_relative_to(ROOT) else "",
        "messages": len(rows),
        "test_messages": test_n,
        "seeds": seeds,
        "sizes": sizes,
        "top_layers": args.top,
        "epochs": args.epochs,
        "threads": args.threads,
        "encode_seconds": encode_seconds,
        "peak_mb_after_setup": setup_mb,
        "peak_mb": peak_mb(),
        "total_seconds": round(time.perf_counter() - start, 1),
        "curve": curve,
    }
    for row in curve:
        print(
            f"{row['mode']:<9} n={row['n']:>3}  complaint F1 {row['complaint_f1']:.3f}"
            f"±{row['complaint_f1_sd']:.3f}  macro F1 {row['macro_f1']:.3f}"
            f"±{row['macro_f1_sd']:.3f}  AUC {row['complaint_auc']:.3f}"
            f"±{row['complaint_auc_sd']:.3f}  train {row['seconds']:.1f}s"
        )
    print(json.dumps(result))


def summarize(runs: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    out = []
    for mode in ("head_5x", "head", "finetune"):
        for n in sizes:
            chosen = [r for r in runs if r["mode"] == mode and r["n"] == n]
            if not chosen:
                continue
            row: dict[str, Any] = {"mode": mode, "n": n, "runs": len(chosen)}
            for key in ("complaint_f1", "macro_f1", "complaint_auc", "seconds"):
                values = [r[key] for r in chosen]
                row[key] = round(statistics.fmean(values), 3)
                row[f"{key}_sd"] = round(statistics.pstdev(values), 3)
            out.append(row)
    return out


if __name__ == "__main__":
    main()
