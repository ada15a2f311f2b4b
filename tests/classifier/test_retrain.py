"""Issue 21, item 2: `kartei classify train` learns from the firm's corrections, switches
to the new model only when it scored better on corrections held back, relabels recent
messages with new events (the old ones stay), and `kartei classify rollback` goes back.
Real model, real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hub.cli import app
from hub.events import NewEvent
from hub.events.classification import (
    ClassificationCorrected,
    ClassifierRolledBack,
    ClassifierTrained,
    MessageClassified,
)
from hub.store import ANY, Database, EventStore
from policies.classifier.learn import correction_weight
from policies.classifier.retrain import (
    Candidate,
    NotEnoughCorrectionsError,
    Registry,
    cross_validate,
    split,
)
from policies.classifier.retrain_jobs import ScheduledTraining
from tests.classifier.test_cli import config, kartei, seed

runner = CliRunner()
GERMAN = Path(__file__).parents[2] / "bench" / "data" / "german_feedback.jsonl"


def german(n: int) -> list[dict[str, str]]:
    """`n` messages of the German set, labels mixed (every 7th, from the start)."""
    rows = [json.loads(line) for line in GERMAN.read_text(encoding="utf-8").splitlines()]
    return rows[::7][:n]


async def correct_all(database_url: str, positions: list[int], rows: list[dict[str, str]]) -> None:
    """Staff confirm or correct every message (as the card's buttons do)."""
    store = EventStore(Database(database_url))
    await store.start()
    try:
        for position, row in zip(positions, rows, strict=True):
            event = ClassificationCorrected(
                message_position=position, label=row["label"], by="anna", text=row["text"]
            )
            await store.append(f"classification-{position}", ANY, [NewEvent(event)])
    finally:
        await store.close()


async def events(database_url: str, *types: str) -> list:
    store = EventStore(Database(database_url))
    await store.start()
    try:
        return await store.read_all(0, 10_000, types=types)
    finally:
        await store.close()


def test_train_switches_only_when_better_relabels_and_rolls_back(
    tmp_path: Path, database_url: str, model_cache: Path
) -> None:
    cfg = str(config(tmp_path, database_url, model_cache))
    rows = german(24)
    positions = seed(database_url, [r["text"] for r in rows])
    assert "24 messages classified" in kartei("classify", "-c", cfg)
    asyncio.run(correct_all(database_url, positions, rows))

    summary = json.loads(kartei("classify", "train", "--head-only", "--json", "-c", cfg))
    assert (summary["corrections"], summary["held_back"]) == (14, 10)
    assert summary["previous_version"] == "shipped" and summary["finetuned_layers"] == 0
    better = summary["scores"]["macro_f1"] > summary["previous_scores"]["macro_f1"]
    assert summary["adopted"] is better
    if not better:  # the gate held; the admin may still choose the new model
        assert summary["in_use"] == "shipped" and summary["relabelled"] == 0
        summary = json.loads(
            kartei("classify", "train", "--head-only", "--force", "--json", "-c", cfg)
        )
    assert summary["adopted"] and summary["in_use"] == summary["version"]
    folder = tmp_path / "classifier" / "models" / summary["version"]
    assert (folder / "head.json").is_file()
    # The 24 messages are recent: each got a new label from the new model; none rewritten.
    assert summary["relabelled"] == 24
    classified = [r.event for r in asyncio.run(events(database_url, "MessageClassified"))]
    versions = [e.model_version for e in classified if isinstance(e, MessageClassified)]
    assert len(versions) == 48 and versions.count(summary["version"]) == 24
    trained = [r.event for r in asyncio.run(events(database_url, "ClassifierTrained"))]
    assert isinstance(trained[-1], ClassifierTrained) and trained[-1].adopted
    assert trained[-1].scores == summary["scores"] and trained[-1].corrections_until > 0

    out = kartei("classify", "rollback", "--by", "anna", "-c", cfg)
    assert "now in use: shipped" in out
    back = [r.event for r in asyncio.run(events(database_url, "ClassifierRolledBack"))]
    assert isinstance(back[-1], ClassifierRolledBack)
    assert (back[-1].version, back[-1].replaced_version) == ("shipped", summary["version"])
    assert Registry.of(tmp_path / "classifier").current is None
    refused = runner.invoke(app, ["classify", "rollback", "-c", cfg])
    assert refused.exit_code == 2 and "nothing to go back from" in " ".join(refused.output.split())


def test_the_gate_split_and_weights() -> None:
    scores = {"macro_f1": 0.6, "complaint_f1": 0.7, "accuracy": 0.6}
    head = None
    same = Candidate("v", head, None, 30, 10, scores, scores, None, 1.0)  # type: ignore[arg-type]
    assert not same.better  # equal is not better: the model in use stays
    worse = Candidate("v", head, None, 30, 10, {**scores, "macro_f1": 0.5}, scores, None, 1.0)  # type: ignore[arg-type]
    better = Candidate("v", head, None, 30, 10, {**scores, "macro_f1": 0.61}, scores, None, 1.0)  # type: ignore[arg-type]
    assert not worse.better and better.better
    with pytest.raises(NotEnoughCorrectionsError):
        split([("a", "praise")] * 19)
    learn, held = split([(str(i), "praise") for i in range(200)])
    assert (len(learn), len(held)) == (150, 50) and not {*learn} & {*held}
    # 200 corrections weigh half of 8,876 shipped sentences; a few still count 5 times.
    assert correction_weight(200, 8876) * 200 == pytest.approx(4438)
    assert correction_weight(2, 8876) == pytest.approx(2219) and correction_weight(0, 10) == 5


def test_cross_validation_predicts_each_correction_once() -> None:
    torch.manual_seed(0)
    centers = torch.eye(3, 16) * 3
    labels = ["complaint", "praise", "neutral"]

    def points(n: int) -> tuple[torch.Tensor, list[str]]:
        y = [labels[i % 3] for i in range(n)]
        x = torch.stack([centers[i % 3] for i in range(n)]) + 0.3 * torch.randn(n, 16)
        return torch.nn.functional.normalize(x, dim=-1), y

    x_shipped, y_shipped = points(60)
    x_corr, y_corr = points(45)
    scores = cross_validate(torch, x_shipped, y_shipped, x_corr, [("t", y) for y in y_corr])
    assert scores is not None and scores["macro_f1"] > 0.9
    assert cross_validate(torch, x_shipped, y_shipped, x_corr[:39], [("t", "praise")] * 39) is None


async def test_schedule_trains_only_once_enough_new_corrections(
    store: EventStore, tmp_path: Path
) -> None:
    from hub.bootstrap import bootstrap
    from hub.settings import Settings

    settings = Settings(
        kartei={"data_dir": tmp_path},
        classifier={"train_min_corrections": 3},  # type: ignore[arg-type]
    )
    kartei = bootstrap(settings, store=store, adapters=[], policies=[], projections=[])
    job = ScheduledTraining(kartei, settings)
    assert (await job.due())[0] is False
    for position in (1, 2):
        event = ClassificationCorrected(message_position=position, label="praise", text="Danke")
        await store.append(f"classification-{position}", ANY, [NewEvent(event)])
    assert (await job.due())[0] is False
    event = ClassificationCorrected(message_position=3, label="complaint", text="Nie wieder")
    done = await store.append("classification-3", ANY, [NewEvent(event)])
    due, found, until = await job.due()
    assert due and len(found) == 3 and until == done.positions[-1]
    trained = ClassifierTrained(
        version="head-x",
        previous_version="shipped",
        adopted=True,
        corrections=2,
        held_back=1,
        previous_scores={},
        scores={},
        corrections_until=until,
    )
    await store.append("classifier-model", ANY, [NewEvent(trained)])
    assert (await job.due())[0] is False  # nothing new since that training


async def test_the_running_classifier_loads_the_model_switched_to(model) -> None:
    """After `kartei classify train` (or rollback) switched models, the policy loads the
    model anew before its next batch; while nothing changed, it keeps the one it has."""
    from policies.classifier.policy import ClassifierPolicy

    loads: list[str] = []
    in_use = ["head-a"]

    def load():  # the real model, counted
        loads.append(in_use[0])
        return model

    policy = ClassifierPolicy(load, model_key=lambda: in_use[0])
    try:
        await policy.predict(["Vielen Dank für die schnelle Hilfe!"])
        await policy.predict(["Rückruf bitte."])
        assert loads == ["head-a"]
        in_use[0] = "head-b"
        [p] = await policy.predict(["Das ist eine Frechheit, ich will mein Geld zurück."])
        assert loads == ["head-a", "head-b"] and p.label == "complaint"
    finally:
        policy.close()
