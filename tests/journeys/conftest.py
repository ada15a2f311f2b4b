"""The journeys run on SQLite (the default install); the model cache is the classifier
tests' (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classifier.conftest import model_cache  # noqa: F401 (fixture)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The journeys' database: a SQLite file, as `kartei init` writes it."""
    return f"sqlite:///{tmp_path}/kartei.db"
