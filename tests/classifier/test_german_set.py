"""The German evaluation set (bench/data/german_feedback.jsonl) is what it says: at least
600 distinct German messages, every label, kind and many trades, licensed for shipping."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).parents[2] / "bench" / "data"


def test_the_german_set_is_complete_varied_and_licensed() -> None:
    rows = [
        json.loads(line)
        for line in (DATA / "german_feedback.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(rows) >= 600
    assert [r["id"] for r in rows] == list(range(1, len(rows) + 1))
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == {"complaint", "praise", "neutral"} and min(labels.values()) >= 150
    assert set(Counter(r["kind"] for r in rows)) == {"email", "fax", "note"}
    assert len({r["trade"] for r in rows}) >= 30
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts) and all(t.strip() == t and t for t in texts)
    # No templated near-duplicates: no two messages share their first eight words.
    openings = Counter(" ".join(t.split()[:8]) for t in texts if len(t.split()) >= 8)
    assert openings.most_common(1)[0][1] == 1, openings.most_common(3)
    assert sum("ü" in t or "ö" in t or "ä" in t or "ß" in t for t in texts) > 300
    assert any(t.startswith("Rückruf bitte") for t in texts)
    readme = (DATA / "README.md").read_text("utf-8")
    assert "CC0 1.0" in readme and "not** training" in readme
