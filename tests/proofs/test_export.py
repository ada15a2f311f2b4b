"""`kartei archive export`: a third party checks it with verify_export.py alone (run here
in isolated mode, from the export's folder, so it cannot import Kartei), and the check
fails when anything in it was changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.archive import Archive
from hub.events import NewEvent
from hub.events.fax import FaxReceived
from hub.events.mail import EmailReceived
from hub.events.notes import NoteAdded
from hub.proofs import heads, merkle
from hub.proofs.export import ExportError, export
from hub.proofs.follower import HeadSigner
from hub.proofs.log import MerkleLog
from hub.proofs.setup import stamper
from hub.settings import settings_from_dict
from hub.store import EventStore
from tests.proofs.conftest import capture_mail, tamper
from tests.proofs.tsa_server import LocalCA, LocalTSA, make_ca, serve

NOW = datetime.now(UTC)
OPENSSL = shutil.which("openssl") is not None
ORIGINAL: list[bytes] = []


@pytest.fixture
def ca() -> LocalCA:
    return make_ca(NOW - timedelta(days=10), NOW - timedelta(days=1))  # expired by now


@pytest.fixture
def local_tsa(ca: LocalCA) -> Iterator[LocalTSA]:
    with serve(LocalTSA(ca, clock=lambda: NOW - timedelta(days=5))) as running:
        yield running


@pytest.fixture
async def exported(
    logged: MerkleLog,
    store: EventStore,
    archive: Archive,
    local_tsa: LocalTSA,
    ca: LocalCA,
    tmp_path: Path,
) -> Path:
    """Five mails, a fax and an erased mail, exported with timestamped heads."""
    settings = settings_from_dict(
        {"kartei": {"data_dir": str(tmp_path)}, "archive": {"tsa_url": local_tsa.url}}
    )
    stamp = stamper(settings, logged)
    assert stamp is not None
    await stamp((await logged.heads())[0])
    document = archive.put(b"%PDF-1.4 Fax von Kunde")
    raw = archive.put(b"From: fax@provider.example\r\n\r\nFax\r\n")
    fax = FaxReceived(
        sender="+4930123456", document_ref=document, document_type="application/pdf", raw_ref=raw
    )
    await store.append("fax-1", 0, [fax])
    async with store.db.write() as conn:  # mail 3's sender is erased
        await store.keys.erase(conn, "email:kunde3@example.de")
    await logged.catch_up()
    head = await HeadSigner(logged, tmp_path, stamp).sign()
    target = tmp_path / "export"
    summary = await export(
        logged,
        head,
        target,
        public_pem=heads.public_pem(heads.load_public(tmp_path)),
        tsa_ca=ca.root_pem(),
    )
    assert (summary.events, summary.files, summary.erased) == (6, 6, 1)
    return target


def check(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "verify_export.py", ".", *options],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def fix_manifest(folder: Path, *names: str) -> None:
    """What a forger does next: make the manifest agree with the changed files."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in names:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.skipif(not OPENSSL, reason="the procedure uses the openssl command")
async def test_a_third_party_verifies_the_export(exported: Path) -> None:
    done = check(exported)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "Export intact."
    assert (exported / "heads/head-1.tst").exists() and (exported / "heads/head-2.tst").exists()
    assert sorted(p.name for p in (exported / "faxes").iterdir()) == ["7-email.eml", "7.pdf"]
    index = (exported / "index.csv").read_bytes()
    assert b";kunde3@example.de;" not in index  # erased: only its event's envelope is left
    assert b";'+4930123456;" in index  # a cell a spreadsheet would read as a formula
    assert index.count(b"\r\n") == 1 + 5 + 2  # header, 4 mails + 1 erased, fax's 2 files


async def test_a_changed_email_is_found_even_with_a_matching_manifest(exported: Path) -> None:
    eml = exported / "messages/1.eml"
    ORIGINAL[:] = [eml.read_bytes()]
    eml.write_bytes(eml.read_bytes().replace(b"Angebot 0", b"Angebot 9"))
    assert (
        "messages/1.eml: SHA-256 differs from the manifest"
        in check(exported, "--no-openssl").stdout
    )
    fix_manifest(exported, "messages/1.eml")
    out = check(exported, "--no-openssl").stdout
    assert "messages/1.eml: SHA-256 differs from index.csv" in out
    index = exported / "index.csv"
    old, new = (hashlib.sha256(d).hexdigest() for d in (ORIGINAL[0], eml.read_bytes()))
    index.write_text(index.read_text().replace(old, new), newline="")
    fix_manifest(exported, "index.csv")
    out = check(exported, "--no-openssl").stdout
    assert out.splitlines() == [
        "PROBLEM messages/1.eml: not named by the leaf of event 1",
        "Export NOT intact.",
    ]


async def test_a_changed_leaf_is_found_by_its_inclusion_proof(exported: Path) -> None:
    proof_file = exported / "proofs/2.json"
    proof = json.loads(proof_file.read_text())
    proof["leaf"] = proof["leaf"].replace('type: "EmailReceived"', 'type: "EmailSent"')
    proof_file.write_text(json.dumps(proof))
    fix_manifest(exported, "proofs/2.json")
    assert check(exported, "--no-openssl").stdout.splitlines() == [
        "PROBLEM event 2: not in tree head 2",
        "Export NOT intact.",
    ]


@pytest.mark.skipif(not OPENSSL, reason="the procedure uses the openssl command")
async def test_a_changed_tree_head_fails_its_signature(exported: Path) -> None:
    text = exported / "heads/head-1.txt"
    text.write_text(text.read_text().replace("size: 6", "size: 5"))
    fix_manifest(exported, "heads/head-1.txt")
    out = check(exported).stdout
    assert "PROBLEM head 1: signature does not verify" in out
    assert "PROBLEM head 1: timestamp does not verify" in out
    assert "heads/consistency-1-2.json: tree head 1 is no prefix of 2" in out


@pytest.mark.skipif(not OPENSSL, reason="the procedure uses the openssl command")
async def test_a_zip_export_verifies_once_unpacked(logged: MerkleLog, tmp_path: Path) -> None:
    head = await logged.sign(heads.load_key(tmp_path))
    target = tmp_path / "pruefung.zip"
    await export(logged, head, target, public_pem=heads.public_pem(heads.load_public(tmp_path)))
    with zipfile.ZipFile(target) as z:
        z.extractall(tmp_path / "unpacked")
    done = check(tmp_path / "unpacked")
    assert done.returncode == 0, done.stdout


async def across_a_block(logged: MerkleLog, store: EventStore, archive: Archive) -> None:
    """Mails on both sides of the first stored 256-leaf block and in the tree's ragged end."""
    notes = [NoteAdded(note_id=f"n{i}", contact_id="c1", text="Rückruf") for i in range(300)]
    await store.append("note-2", 0, notes[:250])
    await capture_mail(store, archive, 3, start=5)  # leaves 256 to 258: the block ends at 255
    await store.append("note-3", 0, notes[250:])
    await capture_mail(store, archive, 2, start=8)  # leaves 309, 310
    await logged.catch_up()


async def test_proofs_across_stored_blocks_are_the_whole_trees(
    logged: MerkleLog, store: EventStore, archive: Archive, tmp_path: Path, monkeypatch: Any
) -> None:
    await across_a_block(logged, store, archive)
    head = await logged.sign(heads.load_key(tmp_path))
    tree = merkle.Tree(await logged.leaf_hashes(head.size))

    async def every_leaf(*args: object) -> list[bytes]:
        raise AssertionError("the export read every leaf")

    monkeypatch.setattr(MerkleLog, "leaf_hashes", every_leaf)
    target = tmp_path / "export"
    summary = await export(
        logged, head, target, public_pem=heads.public_pem(heads.load_public(tmp_path))
    )
    assert (head.size, summary.events) == (311, 10)
    for proof_file in (target / "proofs").iterdir():
        proof = json.loads(proof_file.read_text())
        assert proof["path"] == [p.hex() for p in tree.inclusion_path(proof["leaf_index"])]
    step = json.loads((target / f"heads/consistency-1-{head.id}.json").read_text())
    assert step["path"] == [p.hex() for p in tree.consistency_path(6)]
    assert check(target, "--no-openssl").stdout.strip() == "Export intact."


async def test_a_changed_stored_node_stops_the_export(
    logged: MerkleLog, store: EventStore, archive: Archive, tmp_path: Path
) -> None:
    await across_a_block(logged, store, archive)
    head = await logged.sign(heads.load_key(tmp_path))
    await tamper(store, "merkle_nodes", "UPDATE merkle_nodes SET hash = :h", h=bytes(32))
    with pytest.raises(ExportError, match=f"do not give the root of head {head.id}"):
        await export(logged, head, tmp_path / "x", public_pem=b"")
    assert not (tmp_path / "x").exists()


async def big_mails(store: EventStore, archive: Archive, count: int, size: int) -> None:
    """`count` received mails of `size` bytes each that zstd cannot shrink (scanned PDFs)."""
    for i in range(count):
        raw = b"From: kunde@example.de\r\nSubject: Scan\r\n\r\n" + os.urandom(size)
        event = EmailReceived(sender="kunde@example.de", raw_ref=archive.put(raw), raw_size=size)
        await store.append(f"email-big-{i}", 0, [NewEvent(event, idempotency_key=f"big:{i}")])


async def test_an_export_larger_than_what_it_holds_in_memory(
    logged: MerkleLog, store: EventStore, archive: Archive, tmp_path: Path
) -> None:
    """Years of mail are exported file by file: the originals are never all in memory at
    once (the export held every file until the end: 86 KB an event, gigabytes for a firm's
    archive)."""
    await big_mails(store, archive, 12, 1_000_000)
    await logged.catch_up()
    head = await logged.sign(heads.load_key(tmp_path))
    target = tmp_path / "pruefung.zip"
    tracemalloc.start()
    try:
        summary = await export(logged, head, target, public_pem=b"")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.files == 12 + 5 and summary.size > 12_000_000
    assert peak < 6_000_000, peak  # a few originals at most, not all twelve megabytes
    with zipfile.ZipFile(target) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert all(
            hashlib.sha256(z.read(name)).hexdigest() == digest
            for name, digest in manifest["files"].items()
        )
    assert not target.with_name("pruefung.zip.partial").exists()


async def test_an_export_that_fails_midway_leaves_nothing(
    logged: MerkleLog, tmp_path: Path, monkeypatch: Any
) -> None:
    head = await logged.sign(heads.load_key(tmp_path))
    calls = 0

    def failing_get(self: Archive, ref: str) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(5, "Input/output error")  # the disk failed while reading
        return original_get(self, ref)

    original_get = Archive.get
    monkeypatch.setattr(Archive, "get", failing_get)
    for name in ("export", "export.zip"):
        calls = 0
        with pytest.raises(OSError, match="Input/output error"):
            await export(logged, head, tmp_path / name, public_pem=b"")
        assert not (tmp_path / name).exists()
        assert not (tmp_path / f"{name}.partial").exists()
