"""Fax intake throughput: faxes per minute through the real SMTP fax intake with OCR.

G4 TIFF faxes of 1 and 5 pages (rendered text, as a fax machine sends them, no text layer)
are delivered with smtplib over loopback, two connections at once, into a SQLite store.
Each size runs twice in the same process: with OCR at capture, and with OCR off (the
baseline: parse, archive, preview, commit). The share of time in OCR is the difference.
The 1-page faxes with OCR also run through the mail journal listener with the fax address
routed to the fax intake (`[fax] smtp_listener = "mail"`), to compare with the own listener.

    python bench/fax.py            # 20 faxes per size
    python bench/fax.py --quick    # 4 faxes per size (< 1 min)

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import smtplib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.fax.intake import FaxIntake, FaxRules, FaxSmtpIntake, fax_route
from adapters.fax.profiles import load_profiles
from adapters.mail.pipeline import MailIntake, MailRules
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from hub.archive import Archive
from hub.capture import Capture
from hub.health import ComponentHealth
from hub.store import Database, EventStore
from tests.fax import documents, messages

CONNECTIONS = 2


def faxes(count: int, pages: int) -> list[bytes]:
    out = []
    for i in range(count):
        lines = [[f"Auftrag {i}-{p}", *documents.GERMAN] for p in range(pages)]
        out.append(messages.fritzbox(documents.tiff(lines), f"Fax-{i}.tif", "image/tiff"))
    return out


def deliver(port: int, raws: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=600) as client:
        for raw in raws:
            client.sendmail("fritzbox@firma.example", ["fax@kartei.example"], raw)


async def run(raws: list[bytes], ocr: bool, folder: Path, listener: str = "own") -> float:
    """Seconds to deliver all `raws` (each answered after its commit)."""
    db = Database(f"sqlite:///{folder / 'kartei.db'}")
    store = EventStore(db)
    await store.start()
    rules = FaxRules(load_profiles(), ocr=ocr)
    intake = FaxIntake(Archive(folder / "archive"), rules)
    smtp_rules = IntakeRules.of([], ["127.0.0.0/8"], 50_000_000)
    mail = MailIntake(Archive(folder / "archive"), MailRules(), workers=1)
    if listener == "mail":
        route = fax_route(["fax@kartei.example"], intake)
        adapter = SmtpJournalIntake("127.0.0.1", 0, smtp_rules, mail, [route])
    else:
        adapter = FaxSmtpIntake("127.0.0.1", 0, smtp_rules, intake)  # type: ignore[arg-type]
    task = asyncio.create_task(adapter.run(Capture(store, "fax", ComponentHealth("fax"))))
    await adapter.ready.wait()
    assert adapter.bound_port is not None
    shares = [raws[i::CONNECTIONS] for i in range(CONNECTIONS)]
    started = time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(deliver, adapter.bound_port, s) for s in shares))
    elapsed = time.perf_counter() - started
    assert await store.head() == len(raws)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await store.close()
    mail.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    count = 4 if parser.parse_args().quick else 20
    figures: dict[str, object] = {"faxes_per_size": count, "connections": CONNECTIONS}
    figures["cpus"] = os.cpu_count()
    for pages in (1, 5):
        raws = faxes(count, pages)
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            without = await run(raws, False, Path(a))
            with_ocr = await run(raws, True, Path(b))
        figures[f"{pages}p_faxes_per_min"] = round(count / with_ocr * 60, 1)
        figures[f"{pages}p_faxes_per_min_no_ocr"] = round(count / without * 60, 1)
        figures[f"{pages}p_ocr_share"] = round(max(0.0, 1 - without / with_ocr), 3)
        if pages == 1:
            with tempfile.TemporaryDirectory() as c:
                shared = await run(raws, True, Path(c), listener="mail")
            figures["1p_faxes_per_min_mail_listener"] = round(count / shared * 60, 1)
        print(f"{pages} page(s): {figures[f'{pages}p_faxes_per_min']} faxes/min with OCR, "
              f"{figures[f'{pages}p_faxes_per_min_no_ocr']} without", file=sys.stderr)  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
