"""Retention rules: erase the contacts nobody has been in touch with for years.

A rule ([[retention.rules]]) names a number of years without contact: no email, call, fax
or note on the contact's history (the timeline read model: entries linked to the contact,
to a duplicate merged into it, or to one of its addresses and numbers). A contact newer
than that is never a candidate. Each candidate is then checked as an erasure would be:
retention holds ([privacy.holds], e.g. business letters 6 years) and the rule's exempt tags
keep it, and are never overridden here. A dry run only reports; a real run erases through
hub/privacy/erase.py (ContactErased by ``retention:<rule>``).

The report names contacts by id only: it is logged and shown in health, and must not keep
the names of people it erases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from hub.archive import Archive
from hub.privacy.dossier import PrivacyError
from hub.privacy.erase import Forgetting, RetentionHoldError, erase, plan_erasure
from hub.settings import RetentionRule, Settings
from hub.store import EventStore
from projections.contacts import ContactDirectory
from projections.timeline import Timeline, mail_party, tel_party

log = logging.getLogger(__name__)

# Timeline entries that mean someone was in touch (tasks and risk flags do not).
CONTACT_KINDS = ("email", "call", "fax", "note")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A contact a rule matched, and what became of it."""

    contact_id: str
    name: str  # for the terminal only; never logged or kept
    rule: str
    last_contact: datetime  # the last email, call, fax or note (or when the card was made)
    # "erase" (dry run: would be erased), "erased", "held" (a retention hold), "exempt"
    # (a tag of the rule), "failed"
    outcome: str
    detail: str = ""


@dataclass(slots=True)
class RetentionReport:
    now: datetime
    dry_run: bool
    rules: tuple[str, ...]
    contacts: int = 0  # live contacts looked at
    candidates: list[Candidate] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(c.outcome == outcome for c in self.candidates)

    def summary(self) -> dict[str, Any]:
        """Counts and contact ids (no names): for the log, health and --json."""
        return {
            "at": self.now.isoformat(timespec="seconds"),
            "dry_run": self.dry_run,
            "rules": list(self.rules),
            "contacts": self.contacts,
            **{o: self.count(o) for o in ("erase", "erased", "held", "exempt", "failed")},
            "candidates": [
                {
                    "contact_id": c.contact_id,
                    "rule": c.rule,
                    "last_contact": c.last_contact.date().isoformat(),
                    "outcome": c.outcome,
                    "detail": c.detail,
                }
                for c in self.candidates
            ],
        }


@dataclass(frozen=True, slots=True)
class _Card:
    contact_id: str
    name: str
    kind: str
    tags: tuple[str, ...]
    parties: tuple[str, ...]
    created_at: datetime


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _aware(moment: Any) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def last_contacts(
    store: EventStore, directory: ContactDirectory, timeline: Timeline
) -> tuple[list[_Card], dict[str, datetime]]:
    """The live contacts, and when each was last in touch (absent: never)."""
    table = directory.contacts
    entries, parties = timeline.entries, timeline.parties
    async with store.db.read() as conn:
        rows = (await conn.execute(sa.select(table))).all()
        by_contact = {
            row[0]: _aware(row[1])
            for row in await conn.execute(
                sa.select(entries.c.contact_id, sa.func.max(entries.c.at))
                .where(entries.c.contact_id.is_not(None), entries.c.kind.in_(CONTACT_KINDS))
                .group_by(entries.c.contact_id)
            )
        }
        by_party = {
            row[0]: _aware(row[1])
            for row in await conn.execute(
                sa.select(parties.c.party, sa.func.max(entries.c.at))
                .join(entries, entries.c.entry_id == parties.c.entry_id)
                .where(entries.c.kind.in_(CONTACT_KINDS))
                .group_by(parties.c.party)
            )
        }
    from projections.contacts import _contact  # the row as the directory reads it

    merged: dict[str, list[str]] = {}
    cards: list[_Card] = []
    for row in rows:
        contact = _contact(row)
        if contact.merged_into:
            merged.setdefault(contact.merged_into, []).append(contact.contact_id)
            continue
        numbers = [p.number for p in (*contact.phones, *contact.signature_phones) if p.number]
        cards.append(
            _Card(
                contact.contact_id,
                contact.display_name,
                contact.kind,
                contact.tags,
                tuple([mail_party(e) for e in contact.emails] + [tel_party(n) for n in numbers]),
                _aware(row.created_at),
            )
        )
    last: dict[str, datetime] = {}
    for card in cards:
        ids = [card.contact_id, *merged.get(card.contact_id, ())]
        moments = [by_contact[i] for i in ids if i in by_contact]
        moments += [by_party[p] for p in card.parties if p in by_party]
        if moments:
            last[card.contact_id] = max(moments)
    return cards, last


async def run_retention(
    store: EventStore,
    settings: Settings,
    directory: ContactDirectory,
    timeline: Timeline,
    *,
    dry_run: bool,
    now: datetime | None = None,
    forgetting: Sequence[Forgetting] = (),
    settle: Callable[[], Awaitable[None]] | None = None,
    only: Collection[str] | None = None,
) -> RetentionReport:
    """Evaluates every rule; erases the candidates no hold keeps unless `dry_run`.
    `only`: erase none but these contacts (those a person confirmed from a dry run)."""
    now = now or datetime.now(UTC)
    today: date = now.date()
    rules: Sequence[RetentionRule] = settings.retention.rules
    report = RetentionReport(now, dry_run, tuple(r.name for r in rules))
    if not rules:
        return report
    cards, last = await last_contacts(store, directory, timeline)
    report.contacts = len(cards)
    archive = Archive(settings.data_dir / "archive")
    for card in cards:
        if only is not None and card.contact_id not in only:
            continue
        # Without any communication, the card's creation counts (a new card is no candidate).
        seen = last.get(card.contact_id, card.created_at)
        rule = next(
            (
                r
                for r in rules
                if card.kind in r.kinds and seen < _years_before(now, r.no_contact_years)
            ),
            None,
        )
        if rule is None:
            continue

        outcome, detail = await _judge(
            store, archive, settings, card, rule, seen, dry_run, today, forgetting, settle
        )
        report.candidates.append(
            Candidate(card.contact_id, card.name, rule.name, seen, outcome, detail)
        )
    summary = report.summary()
    log.info(
        "retention %s: %d contacts, %d to erase, %d erased, %d held, %d exempt, %d failed",
        "dry run" if dry_run else "run",
        report.contacts,
        *(summary[o] for o in ("erase", "erased", "held", "exempt", "failed")),
    )
    return report


async def _judge(
    store: EventStore,
    archive: Archive,
    settings: Settings,
    card: _Card,
    rule: RetentionRule,
    seen: datetime,
    dry_run: bool,
    today: date,
    forgetting: Sequence[Forgetting],
    settle: Callable[[], Awaitable[None]] | None,
) -> tuple[str, str]:
    """What becomes of one candidate: exempt, held, erase (dry run), erased or failed."""
    exempt = sorted(set(card.tags) & set(rule.exempt_tags))
    if exempt:
        return "exempt", "tag " + ", ".join(exempt)
    try:
        plan = await plan_erasure(store, card.contact_id, settings.privacy.holds, today)
    except PrivacyError as err:
        return "failed", str(err)
    if plan.holds:
        return "held", ", ".join(f"{h.name} until {h.until.isoformat()}" for h in plan.holds)
    if dry_run:
        return "erase", ""
    try:
        await erase(
            store,
            archive,
            plan,
            by=f"retention:{rule.name}",
            reason=f"retention rule {rule.name}: no contact since {seen.date().isoformat()}",
            forgetting=forgetting,
            settle=settle,
        )
    except (PrivacyError, RetentionHoldError) as err:
        return "failed", str(err)
    return "erased", ""


def schedule_retention(
    settings: Settings,
    kartei: Any,
    forgetting: Callable[[], Sequence[Forgetting]],
) -> None:
    """Adds the daily retention run at [retention] time ("report": a dry run)."""
    section = settings.retention
    if section.mode == "off" or not section.rules:
        return
    if "contacts" not in kartei.projections or "timeline" not in kartei.projections:
        return
    from hub.schedule import daily

    health = kartei.health.component("retention")
    health.set("ok", mode=section.mode, rules=[r.name for r in section.rules], last=None)

    async def settle() -> None:
        head = await kartei.store.head()
        for runner in kartei.projections.values():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(60):
                    await runner.wait_for(head)

    async def run() -> None:
        try:
            await settle()  # the read models at the log's head before judging
            report = await run_retention(
                kartei.store,
                settings,
                kartei.projection("contacts"),
                kartei.projection("timeline"),
                dry_run=section.mode != "erase",
                forgetting=forgetting(),
                settle=settle,
            )
        except Exception as err:  # seen in health, tried again tomorrow
            log.exception("the retention run failed")
            health.set("degraded", str(err))
            return
        summary = report.summary()
        del summary["candidates"]  # ids are in the log line above; health keeps counts
        health.set("ok", last=summary)

    daily(kartei.scheduler, run, section.time, settings.kartei.timezone, "retention")
