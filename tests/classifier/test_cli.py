"""`kartei classify` as staff run it: backlog, eval, correct, export, train, risks."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.events import NewEvent
from hub.events.contacts import ContactCreated
from hub.events.mail import EmailReceived
from hub.store import ANY, Database, EventStore
from tests.classifier.messages import COMPLAINTS, NEUTRAL, PRAISE

runner = CliRunner()


def config(tmp_path: Path, database_url: str, model_cache: Path) -> Path:
    path = tmp_path / "kartei.toml"
    path.write_text(
        f'[kartei]\ndata_dir = "{tmp_path}"\n[database]\nurl = "{database_url}"\n'
        f'[classifier]\ncache_dir = "{model_cache}"\n',
        encoding="utf-8",
    )
    return path


def kartei(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def seed(database_url: str, mails: list[str]) -> list[int]:
    async def main() -> list[int]:
        store = EventStore(Database(database_url))
        await store.start()
        try:
            klaus = ContactCreated(
                contact_id="c-1", family_name="Meier", emails=("k@meier.example",)
            )
            await store.append("contact-c-1", ANY, [NewEvent(klaus)])
            positions = []
            for n, text in enumerate(mails):
                mail = EmailReceived(message_id=f"<{n}@t>", sender="k@meier.example", text=text)
                positions += (await store.append(f"email-{n}", ANY, [NewEvent(mail)])).positions
            return positions
        finally:
            await store.close()

    return asyncio.run(main())


def test_eval_prints_scores_and_confusion(tmp_path: Path, model_cache: Path) -> None:
    labeled = tmp_path / "labeled.csv"
    with labeled.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([(t, "complaint") for t in COMPLAINTS[:4]])
        writer.writerows([(t, "praise") for t in PRAISE[:4]])
        writer.writerows([(t, "neutral") for t in NEUTRAL[:4]])
    cfg = config(tmp_path, f"sqlite:///{tmp_path}/k.db", model_cache)
    scores = json.loads(kartei("classify", "eval", str(labeled), "--json", "-c", str(cfg)))
    assert scores["count"] == 12 and set(scores["labels"]) == {"complaint", "praise", "neutral"}
    assert sum(sum(row.values()) for row in scores["confusion"].values()) == 12
    assert scores["accuracy"] >= 0.75, scores
    text = kartei("classify", "eval", str(labeled), "-c", str(cfg))
    assert "precision" in text and "confusion (rows: true, columns: predicted)" in text


def test_bad_eval_file_is_a_clear_error(tmp_path: Path, model_cache: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,angry\n", encoding="utf-8")
    cfg = config(tmp_path, f"sqlite:///{tmp_path}/k.db", model_cache)
    result = runner.invoke(app, ["classify", "eval", str(bad), "-c", str(cfg)])
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and "line 2: label must be one of" in message
    bad.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(app, ["classify", "eval", str(bad), "-c", str(cfg)])
    assert result.exit_code == 2 and "error" in result.output


def test_backlog_correct_export_train_and_risks(
    tmp_path: Path, database_url: str, model_cache: Path
) -> None:
    cfg = str(config(tmp_path, database_url, model_cache))
    positions = seed(database_url, [COMPLAINTS[4], COMPLAINTS[5], NEUTRAL[2], COMPLAINTS[6]])
    first = kartei("classify", "-c", cfg)
    assert "4 messages classified" in first, first
    again = kartei("classify", "-c", cfg)
    assert "0 messages classified" in again, again  # resumes, nothing new

    kartei("classify", "correct", str(positions[2]), "complaint", "--by", "anna", "-c", cfg)
    exported = kartei("classify", "export-corrections", "-c", cfg)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows == [{"text": NEUTRAL[2], "label": "complaint"}]

    # One correction cannot show whether a new model is better: a clear refusal.
    refused = runner.invoke(app, ["classify", "train", "--json", "-c", cfg])
    message = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "at least 20 are needed to hold some back" in message

    risks = json.loads(kartei("classify", "risks", "--json", "-c", cfg))
    assert risks[0]["contact_id"] == "c-1" and risks[0]["at_risk"], risks
