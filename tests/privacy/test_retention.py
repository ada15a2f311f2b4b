"""Retention rules with a fake clock: mail dated years back through the real capture
pipeline, a dry run that reports and changes nothing, then a run that erases only what no
retention hold or exempt tag keeps (both databases)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from adapters.mail.pipeline import MailIntake, store_prepared
from hub.archive import Archive
from hub.bootstrap import Kartei, bootstrap
from hub.cli import app
from hub.contacts import ContactService
from hub.events.mail import EmailReceived
from hub.settings import Settings, settings_from_dict
from policies.retention import RetentionReport, run_retention
from projections.erasure import forgetting
from tests.mail import messages
from tests.mail.conftest import RULES

NOW = datetime(2031, 6, 1, 9, 0, tzinfo=UTC)  # the fake clock: five years from now
RETENTION: dict[str, object] = {
    "mode": "report",
    "rules": [{"name": "inactive", "no_contact_years": 3, "exempt_tags": ["Rechtsstreit"]}],
}


@dataclass
class Firm:
    kartei: Kartei
    settings: Settings
    config: Path
    ids: dict[str, str]

    async def run(self, dry_run: bool, only: set[str] | None = None) -> RetentionReport:
        kartei = self.kartei
        for runner in kartei.projections.values():
            await runner.catch_up()

        async def settle() -> None:
            for runner in kartei.projections.values():
                await runner.catch_up()

        return await run_retention(
            kartei.store,
            self.settings,
            kartei.projection("contacts"),  # type: ignore[arg-type]
            kartei.projection("timeline"),  # type: ignore[arg-type]
            dry_run=dry_run,
            now=NOW,
            forgetting=forgetting(kartei.projection(n) for n in kartei.projections),
            settle=settle,
            only=only,
        )

    def outcomes(self, report: RetentionReport) -> dict[str, str]:
        names = {v: k for k, v in self.ids.items()}
        return {names[c.contact_id]: c.outcome for c in report.candidates}


def mail(n: int, sender: str, when: datetime, subject: str = "Anfrage") -> tuple[bytes, str]:
    raw = messages.simple(n, sender=sender, subject=subject)
    dated = raw.replace(
        b"Date: Sat, 01 Mar 2025 12:00:00 +0000", b"Date: " + format_datetime(when).encode()
    )
    return dated, "smtp"


@pytest.fixture
async def firm(database_url: str, tmp_path: Path) -> AsyncIterator[Firm]:
    data_dir = tmp_path / "data"
    config = tmp_path / "kartei.toml"
    config.write_text(
        f'[kartei]\ndata_dir = "{data_dir}"\n[database]\nurl = "{database_url}"\n'
        f'[retention]\nmode = "report"\n[[retention.rules]]\nname = "inactive"\n'
        f'no_contact_years = 3\nexempt_tags = ["Rechtsstreit"]\n'
    )
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(data_dir)},
            "database": {"url": database_url},
            "retention": RETENTION,
        }
    )
    kartei = bootstrap(settings, adapters=[], policies=[])
    await kartei.store.start()
    try:
        service = ContactService(kartei.store)
        people = {
            "olga": ("Olga", "Alt", "olga@alt.example", ()),
            "rita": ("Rita", "Neu", "rita@neu.example", ()),
            "ivo": ("Ivo", "Rechnung", "ivo@rechnung.example", ()),
            "quentin": ("Quentin", "Still", "", ()),
            "erna": ("Erna", "Streit", "", ("Rechtsstreit",)),
            "mia": ("Mia", "Doppelt", "mia@alt.example", ()),
            "mia2": ("Mia", "Doppelt", "mia@neu.example", ()),
        }
        ids = {}
        for key, (given, family, email, tags) in people.items():
            card: dict[str, object] = {"given_name": given, "family_name": family, "tags": tags}
            if email:
                card["emails"] = (email,)
            ids[key] = await service.create(card)
        archive = Archive(data_dir / "archive")
        intake = MailIntake(archive, RULES, workers=1)
        try:
            raws = [
                mail(1, "Olga Alt <olga@alt.example>", datetime(2019, 5, 2, tzinfo=UTC)),
                mail(2, "Rita Neu <rita@neu.example>", datetime(2030, 2, 1, tzinfo=UTC)),
                mail(3, "Ivo <ivo@rechnung.example>", datetime(2024, 2, 1, tzinfo=UTC),
                     subject="Rechnung 4711"),
                mail(4, "Mia <mia@alt.example>", datetime(2019, 1, 1, tzinfo=UTC)),
                mail(5, "Mia <mia@neu.example>", datetime(2030, 9, 9, tzinfo=UTC)),
            ]  # fmt: skip
            items = await intake.prepare_many(raws)
            async with kartei.store.transaction() as tx:
                assert await store_prepared(tx, items, "test") == 5
        finally:
            intake.close()
        await service.merge(ids["mia"], ids["mia2"])  # her recent mail keeps her
        for runner in kartei.projections.values():
            await runner.prepare()
            await runner.catch_up()
        yield Firm(kartei, settings, config, ids)
    finally:
        await kartei.store.close()


async def test_dry_run_reports_and_changes_nothing(firm: Firm) -> None:
    head = await firm.kartei.store.head()
    report = await firm.run(dry_run=True)
    assert firm.outcomes(report) == {
        "olga": "erase",
        "quentin": "erase",
        "ivo": "held",
        "erna": "exempt",
    }
    [ivo] = [c for c in report.candidates if c.outcome == "held"]
    assert ivo.detail == "invoices until 2034-12-31"
    assert report.contacts == 6  # the merged duplicate is part of Mia
    assert await firm.kartei.store.head() == head
    summary = report.summary()
    assert "Olga" not in str(summary) and summary["erase"] == 2  # ids, never names
    # Five years earlier nobody is due yet.
    early = await run_retention(
        firm.kartei.store,
        firm.settings,
        firm.kartei.projection("contacts"),  # type: ignore[arg-type]
        firm.kartei.projection("timeline"),  # type: ignore[arg-type]
        dry_run=True,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert firm.outcomes(early) == {"olga": "erase"}  # only her 2019 mail is that old


async def test_run_erases_what_no_hold_keeps(firm: Firm) -> None:
    store = firm.kartei.store
    [olga_mail] = [
        r.event
        for r in await store.read_all(0, 1000, types=["EmailReceived"])
        if isinstance(r.event, EmailReceived) and "olga@alt.example" in r.event.sender
    ]
    assert olga_mail.raw_ref is not None
    archive = Archive(firm.settings.data_dir / "archive")
    assert archive.has(olga_mail.raw_ref)

    report = await firm.run(dry_run=False)
    assert firm.outcomes(report) == {
        "olga": "erased",
        "quentin": "erased",
        "ivo": "held",
        "erna": "exempt",
    }
    erased = await store.read_all(0, 1000, types=["ContactErased"])
    assert sorted(r.event.contact_id for r in erased) == sorted(  # type: ignore[attr-defined]
        [firm.ids["olga"], firm.ids["quentin"]]
    )
    assert {r.event.by for r in erased} == {"retention:inactive"}  # type: ignore[attr-defined]
    assert "no contact since 2019-05-02" in erased[0].event.reason or (  # type: ignore[attr-defined]
        "no contact since" in erased[1].event.reason  # type: ignore[attr-defined]
    )
    assert not archive.has(olga_mail.raw_ref)
    async with store.db.read() as conn:
        names = (await conn.execute(sa.text("SELECT display_name FROM contacts"))).scalars().all()
    assert "Olga Alt" not in names and "Quentin Still" not in names
    assert {"Rita Neu", "Ivo Rechnung", "Erna Streit", "Mia Doppelt"} <= set(names)
    # A second run finds nothing more to do.
    again = await firm.run(dry_run=False)
    assert firm.outcomes(again) == {"ivo": "held", "erna": "exempt"}


def test_retention_from_the_command_line(firm: Firm) -> None:
    """German unless configured otherwise; --json stays English."""
    runner = CliRunner()
    config = ["--config", str(firm.config)]
    shown = runner.invoke(app, ["retention", "run", "--dry-run", "--as-of", "2031-06-01", *config])
    assert shown.exit_code == 0, shown.output
    assert "Löschregeln, Probelauf, 01.06.2031" in shown.output
    assert "würde gelöscht" in shown.output and "Olga Alt" in shown.output
    assert (
        "2 zu löschen, 0 gelöscht, 1 wegen Aufbewahrungspflicht behalten, 1 ausgenommen"
        in shown.output
    )
    refused = runner.invoke(app, ["retention", "run", "--as-of", "2031-06-01", *config])
    assert refused.exit_code == 2 and "--as-of nur mit --dry-run" in refused.output
    declined = runner.invoke(app, ["retention", "run", *config], input="n\n")
    assert declined.exit_code == 1, declined.output
    assert "Diesen 1 Kontakt endgültig löschen? [j/N]" in declined.output
    assert "nichts gelöscht" in declined.output
    # Today only Olga's 2019 mail is over three years old (and past its 6-year hold);
    # every card without mail is new. The real run erases her, and only her.
    today = runner.invoke(app, ["retention", "run", "--yes", "--json", *config])
    assert today.exit_code == 0, today.output
    done = json.loads(today.output)
    assert (done["erased"], done["held"], done["exempt"]) == (1, 0, 0)
    assert [c["contact_id"] for c in done["candidates"]] == [firm.ids["olga"]]


def test_retention_in_english_when_configured(firm: Firm) -> None:
    english = firm.config.parent / "english.toml"
    english.write_text(firm.config.read_text().replace("[kartei]\n", '[kartei]\nlanguage = "en"\n'))
    runner = CliRunner()
    config = ["--config", str(english)]
    shown = runner.invoke(app, ["retention", "run", "--dry-run", "--as-of", "2031-06-01", *config])
    assert shown.exit_code == 0, shown.output
    assert "Retention dry run, 2031-06-01" in shown.output
    assert "would be erased" in shown.output and "Olga Alt" in shown.output
    assert "2 to erase, 0 erased, 1 kept by retention holds, 1 exempt" in shown.output
    refused = runner.invoke(app, ["retention", "run", "--as-of", "2031-06-01", *config])
    assert refused.exit_code == 2 and "only with --dry-run" in refused.output
    declined = runner.invoke(app, ["retention", "run", *config], input="no\n")
    assert declined.exit_code == 1 and "Erase this 1 contact for good? [y/N]" in declined.output
    assert "nothing erased" in declined.output
    done = runner.invoke(app, ["retention", "run", *config], input="y\n")
    assert done.exit_code == 0, done.output
    assert "Retention run, " in done.output and "0 to erase, 1 erased" in done.output


async def test_the_scheduler_runs_a_dry_run_daily_and_reports_in_health(firm: Firm) -> None:
    job = firm.kartei.scheduler.get_job("retention")
    assert job is not None and "hour='4', minute='0'" in str(job.trigger)
    head = await firm.kartei.store.head()
    await job.func()  # mode "report": today Olga would be erased, nobody is
    health = firm.kartei.health.component("retention")
    assert health.state == "ok", health.error
    assert health.details["last"]["erase"] == 1 and health.details["last"]["dry_run"]
    assert "candidates" not in health.details["last"]  # counts only, no ids kept in memory
    assert await firm.kartei.store.head() == head


async def test_a_confirmed_run_erases_none_but_the_confirmed(firm: Firm) -> None:
    report = await firm.run(dry_run=False, only={firm.ids["olga"]})
    assert firm.outcomes(report) == {"olga": "erased"}  # Quentin was not confirmed
    assert firm.outcomes(await firm.run(dry_run=True))["quentin"] == "erase"
