"""`kartei archive export` (GoBD Z3): the originals, an index, and the proofs that they are
complete and unaltered, checkable by a third party without Kartei (docs/archive.md).

Layout (a folder, or the same inside a ZIP file)::

    manifest.json               what is in the export, with every file's SHA-256
    index.csv                   one row per archived original (";"-separated, UTF-8)
    messages/<position>.eml     original emails as received or sent
    faxes/<position>.<ext>      fax documents (PDF, TIFF); the email they came in is .eml
    proofs/<position>.json      the event's leaf (its text) and its inclusion proof
    heads/head-<id>.txt|.sig|.tst   signed tree heads, signatures, RFC 3161 tokens
    heads/consistency-<a>-<b>.json  earlier timestamped heads are prefixes of this one
    archive-signing.pub.pem     the key that signs the heads
    tsa-ca.pem                  the TSA root(s) the firm trusts (when configured)
    verify_export.py            the standalone check (standard library + OpenSSL)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import hub
from hub.archive import ArchiveError
from hub.events import Recorded
from hub.proofs import heads, leaf
from hub.proofs.log import HeadRow, MerkleLog
from hub.proofs.paths import TreePaths
from hub.proofs.schema import merkle_leaves, merkle_nodes

SCRIPT = Path(__file__).with_name("verify_export.py")
COLUMNS = [
    "position", "recorded_at", "type", "stream", "date", "from", "to", "subject",
    "file", "sha256", "leaf_index",
]  # fmt: skip
_SUFFIX = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/png": ".png"}


class ExportError(RuntimeError):
    """The stored tree does not give the signed head's root: no proof would hold. Carries
    its wording's catalogue key and values (the command line words it in the configured
    language); str() is the English text."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key.format(**values))
        self.key = key
        self.values = values


@dataclass
class ExportSummary:
    target: Path
    head: HeadRow
    files: int = 0
    erased: int = 0
    events: int = 0
    size: int = 0  # bytes of all files written, before compression


def originals(event: Any) -> Iterator[tuple[str, str, str]]:
    """(folder, suffix, ref) of the original files an event archived: the raw email, the
    fax document. Parts that are inside the raw email (attachments, HTML) are not repeated."""
    raw = getattr(event, "raw_ref", "")
    folder = "faxes" if hasattr(event, "document_ref") else "messages"
    if raw:
        yield folder, ".eml", raw
    document = getattr(event, "document_ref", "")
    if document:
        yield folder, _SUFFIX.get(getattr(event, "document_type", ""), ".bin"), document


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export(
    log: MerkleLog,
    head: HeadRow,
    target: Path,
    *,
    public_pem: bytes,
    tsa_ca: bytes | None = None,
) -> ExportSummary:
    """Writes the export of every archived original in `head` to `target` (a new folder,
    or a .zip file)."""
    summary = ExportSummary(target, head)
    tree = TreePaths(LogHashes(log), head.size)
    if await tree.root() != head.root:
        raise ExportError(
            "the Merkle log's stored hashes do not give the root of head {head} "
            "(kartei archive verify names what changed)",
            head=head.id,
        )
    rows: list[dict[str, object]] = []
    with _Writer(target, summary) as out:
        async for batch in log.store.iter_all(0, 500):
            logged = await log.leaves_between(batch[0].position, batch[-1].position)
            for recorded in batch:
                found = logged.get(recorded.position)
                if found is not None and found[0] < head.size:
                    files = [] if recorded.erased else list(originals(recorded.event))
                    path = await tree.path(found[0]) if files else []
                    _add_event(log, recorded, found, files, path, out, rows)
        out.add("index.csv", _csv(rows))
        await _add_heads(out, log, head)
        out.add("archive-signing.pub.pem", public_pem)
        if tsa_ca:
            out.add("tsa-ca.pem", tsa_ca)
        out.add("verify_export.py", SCRIPT.read_bytes())
        manifest = {
            "format": "kartei-archive-export/1",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "kartei": hub.__version__,
            "head_id": head.id,
            "tree_size": head.size,
            "root": head.root.hex(),
            "events": summary.events,
            "originals": summary.files,
            "erased": summary.erased,
            "files": dict(sorted(out.hashes.items())),
        }
        out.add("manifest.json", _json(manifest))
    return summary


class LogHashes:
    """The log's stored leaf and node hashes, as TreePaths reads them."""

    def __init__(self, log: MerkleLog) -> None:
        self.log = log

    async def hashes(self, level: int, first: int, last: int) -> list[bytes]:
        if first >= last:
            return []
        if level == 0:
            index, query = merkle_leaves.c.leaf_index, sa.select(merkle_leaves.c.leaf_hash)
        else:
            index = merkle_nodes.c.node_index
            query = sa.select(merkle_nodes.c.hash).where(merkle_nodes.c.level == level)
        query = query.where(index.between(first, last - 1)).order_by(index)
        async with self.log.store.db.read() as conn:
            found = [bytes(h) for h in (await conn.execute(query)).scalars()]
        if len(found) != last - first:
            raise ExportError(
                "the Merkle log lacks stored hashes of level {level} in {first}..{last} "
                "(kartei archive verify names them)",
                level=level,
                first=first,
                last=last - 1,
            )
        return found


async def _add_heads(out: _Writer, log: MerkleLog, head: HeadRow) -> None:
    """Every head up to the export's, with its signature and token; consistency proofs
    into the export's head from each timestamped head and from the one before it."""
    tokens = await log.timestamps()
    earlier = [h for h in await log.heads() if h.id < head.id and h.size <= head.size]
    for h in [*earlier, head]:
        out.add(f"heads/head-{h.id}.txt", h.text.encode())
        out.add(f"heads/head-{h.id}.sig", h.signature)
        if h.id in tokens:
            out.add(f"heads/head-{h.id}.tst", tokens[h.id])
    for h in earlier:
        if h.size and (h.id in tokens or h is earlier[-1]):
            step = {
                "old": h.id,
                "new": head.id,
                "path": [p.hex() for p in await log.consistency_path(h.size, head.size)],
            }
            out.add(f"heads/consistency-{h.id}-{head.id}.json", _json(step))


def _add_event(
    log: MerkleLog,
    recorded: Recorded,
    found: tuple[int, bytes],
    files: list[tuple[str, str, str]],
    path: list[bytes],
    out: _Writer,
    rows: list[dict[str, object]],
) -> None:
    index, leaf_bytes = found
    event = recorded.event
    summary = out.summary
    summary.events += 1
    base = {
        "position": recorded.position,
        "recorded_at": leaf.timestamp(recorded.recorded_at),
        "type": recorded.type_name,
        "stream": recorded.stream,
        "date": getattr(event, "date", None) or getattr(event, "received_at", None) or "",
        "from": getattr(event, "sender", "") or "",
        "to": getattr(event, "to", ()),
        "subject": getattr(event, "subject", ""),
        "leaf_index": index,
    }
    if recorded.erased or not files:
        summary.erased += recorded.erased
        rows.append({**base, "file": "", "sha256": "erased" if recorded.erased else ""})
        return
    proof = {
        "position": recorded.position,
        "leaf_index": index,
        "tree_size": summary.head.size,
        "head_id": summary.head.id,
        "leaf": leaf_bytes.decode(),
        "path": [p.hex() for p in path],
    }
    out.add(f"proofs/{recorded.position}.json", _json(proof))
    for folder, suffix, ref in files:
        try:
            data = log.archive.get(ref)
        except ArchiveError as err:
            rows.append({**base, "file": "", "sha256": f"missing: {err}"})
            continue
        stem = f"{folder}/{recorded.position}"
        name = f"{stem}-email.eml" if folder == "faxes" and suffix == ".eml" else stem + suffix
        summary.files += 1
        rows.append({**base, "file": name, "sha256": out.add(name, data)})


def _csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue().encode("utf-8")


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


class _Writer:
    """Writes the export's files as they come, into a .zip or a folder, and keeps only
    each file's SHA-256 for the manifest: an export of years of mail never holds its
    originals in memory. It is written under `<target>.partial` and gets its name only
    when complete; an export that fails leaves nothing."""

    def __init__(self, target: Path, summary: ExportSummary) -> None:
        if target.exists():
            raise FileExistsError(f"{target} exists already")
        self.summary = summary
        self.target = target
        self.partial = target.with_name(target.name + ".partial")
        self.hashes: dict[str, str] = {}
        self.zip: zipfile.ZipFile | None = None

    def __enter__(self) -> _Writer:
        _remove(self.partial)  # what an interrupted export left
        if self.target.suffix.lower() == ".zip":
            self.zip = zipfile.ZipFile(self.partial, "x", zipfile.ZIP_DEFLATED)
        else:
            self.partial.mkdir(parents=True)
        return self

    def add(self, name: str, data: bytes) -> str:
        """Writes one file of the export; returns its SHA-256 (hex)."""
        digest = self.hashes[name] = hashlib.sha256(data).hexdigest()
        self.summary.size += len(data)
        if self.zip is not None:
            self.zip.writestr(name, data)
        else:
            path = self.partial / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return digest

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.zip is not None:
            self.zip.close()
        if kind is not None:
            _remove(self.partial)
        elif self.target.exists():
            _remove(self.partial)
            raise FileExistsError(f"{self.target} exists already")
        else:
            self.partial.rename(self.target)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def public_key_pem(data_dir: Path) -> bytes:
    return heads.public_pem(heads.load_public(data_dir))
