"""Erasure (issue 15's `kartei privacy erase`) and the archive's proofs together: keys
destroyed and documents deleted, the tree and every signed head still verify, the erased
files counted as tombstones; an export made afterwards is intact for a third party."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from hub.proofs import heads
from hub.proofs.log import MerkleLog
from tests.privacy.conftest import Firm, firm  # noqa: F401 (the fixture)
from tests.web.conftest import admin, web  # noqa: F401 (fixtures the firm needs)


async def test_erasure_keeps_the_archive_verifiable(firm: Firm, tmp_path: Path) -> None:  # noqa: F811
    store = firm.kartei.store
    merkle = MerkleLog(store, firm.data_dir / "archive")
    await merkle.catch_up()
    await merkle.sign(heads.ensure_key(firm.data_dir))
    await store.close()
    code, output = await asyncio.to_thread(firm.cli, "archive", "verify")
    assert code == 0 and "(0 davon gelöscht, als Hashwert erhalten)" in " ".join(output.split())

    code, output = await asyncio.to_thread(
        firm.cli, "privacy", "erase", firm.person, "--yes", "--reason", "Antrag 2026-17",
        "--override-retention", "Art. 17 request; letters kept on paper",
    )  # fmt: skip
    assert code == 0, output
    code, output = await asyncio.to_thread(firm.cli, "archive", "verify")
    assert code == 0, output
    erased = int(re.search(r"\((\d+)\s+davon\s+gelöscht", output).group(1))  # type: ignore[union-attr]
    assert erased >= 3  # the mail, the fax's document and the email it came in
    assert "Archiv unversehrt." in output

    target = tmp_path / "pruefung"
    code, output = await asyncio.to_thread(firm.cli, "archive", "export", str(target))
    assert code == 0, output
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-I", "verify_export.py", ".", "--no-openssl"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "Export intact.", done.stdout
    index = (target / "index.csv").read_text(encoding="utf-8")
    assert "berta.bleibt@kunde.example" in index and "obstgut" not in index
