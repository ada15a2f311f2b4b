"""`kartei archive verify`: every event against the tree, every blob against its hash,
every tree head against its signature and timestamp. Needs no subject key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.proofs import files, heads, leaf, merkle
from hub.proofs.log import ROW_COLUMNS, MerkleLog, stored_row
from hub.proofs.schema import merkle_leaves, merkle_nodes, merkle_timestamps
from hub.store.crypto import SEALED
from hub.store.schema import events, subject_keys

CHUNK = 5000
# Findings whose reason comes worded from elsewhere (heads.HeadError, the timestamp check)
HEAD_PROBLEM = "tree head {head}: {reason}"
TIMESTAMP_PROBLEM = "tree head {head}: timestamp {reason}"
NODE = "tree node at level {level}, index {index} (leaves {first}-{last})"

TimestampCheck = Callable[[bytes, str], str | None]  # (token, head text) -> problem or None


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold: its wording's catalogue key (English, with
    placeholders) and the values; the command line words it in the configured language
    (hub/cli/archive.py), str() is the English text (`--json`, logs)."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.key.format(**self.values)


@dataclass
class Report:
    events: int = 0
    blobs: int = 0
    erased_blobs: int = 0  # tombstones: the blob is gone, its subject's key too
    heads: int = 0
    timestamps: int = 0
    unlogged: int = 0  # events committed after the follower's last batch
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """The findings in English."""
        return [str(f) for f in self.findings]

    @property
    def ok(self) -> bool:
        return not self.findings

    def found(self, key: str, **values: object) -> None:
        self.findings.append(Finding(key, values))


@dataclass(slots=True)
class _Blob:
    stored_sha256: str
    position: int  # the first event that names it (for the report)
    subjects: set[str] = field(default_factory=set)


async def verify(
    log: MerkleLog,
    public: Ed25519PublicKey,
    timestamp_check: TimestampCheck | None = None,
) -> Report:
    report = Report()
    signed = _signed_heads(await log.heads(), public, report)
    blobs = await _verify_events(log, signed, report)
    await _verify_timestamps(log, signed, timestamp_check, report)
    await asyncio.to_thread(_verify_blobs, log.archive.root, blobs, report)
    await _tombstones(log, blobs, report)
    return report


def _signed_heads(
    rows: list, public: Ed25519PublicKey, report: Report
) -> dict[int, list[tuple[int, heads.TreeHead]]]:
    """The heads whose signature holds, by tree size."""
    by_size: dict[int, list[tuple[int, heads.TreeHead]]] = {}
    for row in rows:
        report.heads += 1
        try:
            head = heads.verify(public, row.text, row.signature)
        except heads.HeadError as err:
            report.found(HEAD_PROBLEM, head=row.id, reason=str(err))
            continue
        by_size.setdefault(head.size, []).append((row.id, head))
    return by_size


async def _verify_events(
    log: MerkleLog, signed: dict[int, list[tuple[int, heads.TreeHead]]], report: Report
) -> dict[str, _Blob]:
    """Recomputes every leaf from its event row, and every signed root and stored node
    from the leaves."""
    frontier = merkle.Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    state, last_position = await log.state()
    blobs: dict[str, _Blob] = {}
    after = -1
    previous_position = 0
    _check_roots(frontier, signed, report)
    while True:
        async with log.store.db.read() as conn:
            leaves = (
                await conn.execute(
                    sa.select(merkle_leaves)
                    .where(merkle_leaves.c.leaf_index > after)
                    .order_by(merkle_leaves.c.leaf_index)
                    .limit(CHUNK)
                )
            ).all()
            if not leaves:
                break
            rows = (
                await conn.execute(
                    sa.select(*ROW_COLUMNS)
                    .where(
                        events.c.position > previous_position,
                        events.c.position <= leaves[-1].position,
                    )
                    .order_by(events.c.position)
                )
            ).all()
        by_position = {int(r.position): r for r in rows}
        for entry in leaves:
            if entry.leaf_index != frontier.size:
                report.found("leaf {leaf} is missing from the leaf table", leaf=frontier.size)
            raw = by_position.pop(int(entry.position), None)
            entries = leaf.unpack_blobs(entry.blobs)
            if raw is None:
                report.found("event at position {position} is gone", position=int(entry.position))
            else:
                report.events += 1
                hashed = merkle.leaf_hash(leaf.encode(stored_row(raw), entries))
                if hashed != bytes(entry.leaf_hash):
                    report.found(
                        "event at position {position} differs from its logged leaf",
                        position=int(entry.position),
                    )
                subject = _subject(raw.data)
                for b in entries:
                    blob = blobs.get(b.locator)
                    if blob is None:
                        blob = blobs[b.locator] = _Blob(b.stored_sha256, int(entry.position))
                    if subject:
                        blob.subjects.add(subject)
                    if blob.stored_sha256 != b.stored_sha256:
                        report.found("blob {locator}: logged with two hashes", locator=b.locator)
            closed = frontier.append(bytes(entry.leaf_hash))
            for level in merkle.STORED_LEVELS:
                if len(closed) > level:
                    nodes[level, (frontier.size >> level) - 1] = closed[level]
            _check_roots(frontier, signed, report)
        for position in by_position:
            report.found("event at position {position} is not in the Merkle log", position=position)
        after = int(leaves[-1].leaf_index)
        previous_position = int(leaves[-1].position)
    await _check_nodes(log, nodes, report)
    if (frontier.size, frontier.root()) != (state.size, state.root()):
        report.found("the stored tree state does not match the leaves")
    for size in signed:
        if size > frontier.size:
            report.found("a signed head covers {size} leaves; the log holds fewer", size=size)
    async with log.store.db.read() as conn:
        report.unlogged = int(
            await conn.scalar(
                sa.select(sa.func.count())
                .select_from(events)
                .where(events.c.position > last_position)
            )
            or 0
        )
    return blobs


async def _check_nodes(
    log: MerkleLog, computed: dict[tuple[int, int], bytes], report: Report
) -> None:
    """Every stored node against the one recomputed from the leaves: proofs are made of
    stored nodes, so a changed one would make wrong proofs."""
    async with log.store.db.read() as conn:
        stored = (await conn.execute(sa.select(merkle_nodes))).all()
    for row in stored:
        key = (int(row.level), int(row.node_index))
        first, last = key[1] << key[0], ((key[1] + 1) << key[0]) - 1
        where = {"level": key[0], "index": key[1], "first": first, "last": last}
        hashed = computed.pop(key, None)
        if hashed is None:
            report.found(NODE + " has no complete block of leaves", **where)
        elif hashed != bytes(row.hash):
            report.found(NODE + " does not match the leaves", **where)
    for level, index in sorted(computed):
        report.found(
            "tree node at level {level}, index {index} is missing", level=level, index=index
        )


def _check_roots(
    frontier: merkle.Frontier,
    signed: dict[int, list[tuple[int, heads.TreeHead]]],
    report: Report,
) -> None:
    for head_id, head in signed.get(frontier.size, ()):
        if head.root != frontier.root():
            report.found("tree head {head}: root does not match the log", head=head_id)


def _subject(data: str) -> str | None:
    """Which key seals the event: ``k:<key id>``, or ``s:<subject>`` (events sealed
    before key ids); None when it has no sealed fields."""
    try:
        sealed = orjson.loads(data).get(SEALED)
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if not isinstance(sealed, dict):
        return None
    return f"k:{sealed['k']}" if "k" in sealed else f"s:{sealed.get('s')}"


async def _verify_timestamps(
    log: MerkleLog,
    signed: dict[int, list[tuple[int, heads.TreeHead]]],
    check: TimestampCheck | None,
    report: Report,
) -> None:
    texts = {row.id: row.text for row in await log.heads()}
    async with log.store.db.read() as conn:
        tokens = (await conn.execute(sa.select(merkle_timestamps))).all()
    for token in tokens:
        report.timestamps += 1
        text = texts.get(int(token.head_id))
        if text is None:
            report.found("timestamp for unknown tree head {head}", head=int(token.head_id))
            continue
        if check is None:
            report.found(
                "tree head {head}: timestamped, but no TSA certificate is configured "
                "to check it ([archive] tsa_ca_file)",
                head=int(token.head_id),
            )
            continue
        if (problem := check(bytes(token.token), text)) is not None:
            report.found(TIMESTAMP_PROBLEM, head=int(token.head_id), reason=problem)


def _verify_blobs(root: Path, blobs: dict[str, _Blob], report: Report) -> None:
    for locator, blob in blobs.items():
        digest = files.stored_sha256(root, locator)
        if digest is None:
            continue  # gone: a tombstone if its subjects are erased (checked next)
        report.blobs += 1
        if digest != blob.stored_sha256:
            report.found(
                "blob {locator} (event {event}) differs from its logged hash",
                locator=locator,
                event=blob.position,
            )
        blob.stored_sha256 = "present"


async def _tombstones(log: MerkleLog, blobs: dict[str, _Blob], report: Report) -> None:
    """A missing blob is an erasure's tombstone when none of its subjects has a key left."""
    missing = {loc: b for loc, b in blobs.items() if b.stored_sha256 != "present"}
    wanted = sorted({s for b in missing.values() for s in b.subjects})
    alive: set[str] = set()
    async with log.store.db.read() as conn:
        for kind, column in (("s", "subject"), ("k", "key_id")):
            if column not in subject_keys.c:  # key ids came with the privacy work
                continue
            names = [s[2:] for s in wanted if s.startswith(f"{kind}:")]
            for i in range(0, len(names), 500):
                query = sa.select(subject_keys.c[column]).where(
                    subject_keys.c[column].in_(names[i : i + 500])
                )
                alive.update(f"{kind}:{n}" for n in (await conn.execute(query)).scalars())
    for locator, blob in missing.items():
        if blob.stored_sha256 == "missing":
            report.found(
                "blob {locator} (event {event}) was missing when logged",
                locator=locator,
                event=blob.position,
            )
        elif blob.subjects & alive or not blob.subjects:
            report.found(
                "blob {locator} (event {event}) is missing", locator=locator, event=blob.position
            )
        else:
            report.erased_blobs += 1
