"""Export (issue 15, item 2): a ZIP with a readable summary, all data as JSON and the
original documents; the export is in the audit trail (both databases)."""

from __future__ import annotations

import asyncio
import zipfile

import orjson

from tests.privacy.conftest import EMAIL, FAMILY, FAX_SENTENCE, GIVEN, MAIL_SENTENCE, Firm


async def test_export_holds_summary_data_and_documents(firm: Firm) -> None:
    await firm.kartei.store.close()
    out = firm.config.parent / "export.zip"
    code, output = await asyncio.to_thread(
        firm.cli, "privacy", "export", firm.person, "--out", str(out)
    )
    assert code == 0, output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        summary = zf.read("summary.html").decode()
        data = orjson.loads(zf.read("data.json"))
        emls = [zf.read(n) for n in names if n.endswith("email.eml")]
        pdfs = [zf.read(n) for n in names if n.startswith("documents/") and n.endswith(".pdf")]
    assert f"{GIVEN} {FAMILY}" in summary and EMAIL in summary and "<script" not in summary
    # The summary speaks to the person in words, not in the log's event types.
    history = summary.split("<h2>")[1]
    assert "E-Mail von Ihnen" in history and "EmailReceived" not in history
    assert data["contact"]["given_name"] == GIVEN and data["contact"]["emails"] == [EMAIL]
    texts = [e["data"].get("text", "") for e in data["events"]]
    assert any(MAIL_SENTENCE in t for t in texts) and any(FAX_SENTENCE in t for t in texts)
    assert "contacts" in data["read_models"] and "Berta" not in out.read_bytes().decode("latin-1")
    assert len(emls) == 1 and MAIL_SENTENCE.encode() in emls[0]
    assert len(pdfs) == 1 and pdfs[0].startswith(b"%PDF")
    code, output = await asyncio.to_thread(firm.cli, "privacy", "audit")
    assert f"Daten exportiert: {GIVEN} {FAMILY}" in output  # by name, in German
    code, output = await asyncio.to_thread(firm.cli, "privacy", "export", "nobody")
    assert code == 2 and "kein Kontakt 'nobody'" in output, output  # German by default
