"""The real model, loaded once per test session (building the encoder takes seconds).

torch and transformers must be installed (the `classifier` extra): without them these
tests fail, they are not skipped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from policies.classifier.model import EncoderHeadModel, ensure_encoder, load_model
from tests.classifier.telegram_peer import BotApiPeer


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the converted encoder lives for this session (KARTEI_TEST_MODEL_CACHE keeps it)."""
    configured = os.environ.get("KARTEI_TEST_MODEL_CACHE")
    cache = Path(configured) if configured else tmp_path_factory.mktemp("models")
    ensure_encoder(cache)
    return cache


@pytest.fixture(scope="session")
def model(model_cache: Path) -> EncoderHeadModel:
    """The default model: converted e5 encoder plus the shipped head."""
    loaded = load_model("builtin", cache_dir=model_cache)
    assert isinstance(loaded, EncoderHeadModel)
    return loaded


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    """The Telegram Bot API peer, on a loopback port."""
    server = BotApiPeer()
    await server.start()
    yield server
    await server.stop()
