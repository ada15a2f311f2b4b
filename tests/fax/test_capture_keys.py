"""A fax captured before Message-IDs were hashed is recognized, not captured twice."""

from __future__ import annotations

from pathlib import Path

from adapters.fax.intake import FaxRules, prepare_fax, stream_for
from adapters.mail.pipeline import store_prepared
from hub.events import NewEvent
from hub.events.fax import FaxReceived
from hub.store import ANY, EventStore
from tests.fax import messages
from tests.fax.conftest import PROFILES, Documents


async def test_a_fax_stored_under_its_plain_message_id_key_is_not_captured_again(
    store: EventStore, docs: Documents, tmp_path: Path
) -> None:
    """An upgraded store: the fax was stored by an earlier version under the key with its
    Message-ID in plain; the same fax delivered again adds nothing."""
    raw = messages.fritzbox(docs.text_layer)
    rules = FaxRules(PROFILES, ocr=False)
    item = prepare_fax(raw, "smtp:fax", rules, str(tmp_path / "archive"))
    assert item.event is not None and item.legacy_key is not None
    assert item.legacy_key.startswith("fax:email:<") and item.key != item.legacy_key
    old = NewEvent(item.event, item.legacy_key)
    await store.append(stream_for(item.legacy_key), ANY, [old])

    again = prepare_fax(raw, "smtp:fax", rules, str(tmp_path / "archive"))
    async with store.transaction() as tx:
        assert await store_prepared(tx, [again], "fax") == 0
    recorded = await store.read_all(0, 100)
    assert [type(r.event) for r in recorded] == [FaxReceived]
    assert [r.idempotency_key for r in recorded] == [item.legacy_key]


async def test_a_fax_under_its_plain_key_seen_in_another_mailbox_is_noted_on_its_stream(
    store: EventStore, docs: Documents, tmp_path: Path
) -> None:
    """The same fax read from a second mailbox adds that mailbox to the fax's own stream
    (the one an earlier version stored it in), not to a stream of its own."""
    raw = messages.fritzbox(docs.text_layer)
    rules = FaxRules(PROFILES, ocr=False)
    item = prepare_fax(raw, "smtp:fax", rules, str(tmp_path / "archive"))
    assert item.event is not None and item.legacy_key is not None
    await store.append(stream_for(item.legacy_key), ANY, [NewEvent(item.event, item.legacy_key)])

    again = prepare_fax(raw, "imap:fax/INBOX", rules, str(tmp_path / "archive"))
    async with store.transaction() as tx:
        assert await store_prepared(tx, [again], "fax") == 0
    recorded = await store.read_all(0, 100)
    assert [r.type_name for r in recorded] == ["FaxReceived", "EmailSeenInMailbox"]
    assert {r.stream for r in recorded} == {stream_for(item.legacy_key)}
