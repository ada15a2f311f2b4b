"""Configuration errors name the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "hub" / "defaults" / "kartei.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kartei.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_config_is_valid_and_complete() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.web.port == 8080
    assert settings.database_url.startswith("sqlite:///")
    assert settings.data_dir == (EXAMPLE.parent / "data").resolve()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[web]\nport = 'acht'\n", "web.port: expected a valid integer"),
        ("[web]\nprot = 8080\n", "web.prot: unknown key"),
        ("[kartei]\nlanguage = 'fr'\n", "kartei.language: expected 'de' or 'en'"),
        ("[web\nport = 1\n", "not valid TOML"),
        (
            "[database]\nurl = '${KARTEI_TEST_UNSET_VARIABLE}'\n",
            "KARTEI_TEST_UNSET_VARIABLE is not set",
        ),
    ],
)
def test_bad_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARTEI_TEST_DB", "postgresql://kartei@db/kartei")
    path = write(
        tmp_path,
        "[database]\nurl = '${KARTEI_TEST_DB}'\n[web]\nhost = '${KARTEI_NO_SUCH:-0.0.0.0}'\n",
    )
    settings = load_settings(path)
    assert settings.database_url == "postgresql://kartei@db/kartei"
    assert settings.web.host == "0.0.0.0"


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="kartei init"):
        load_settings(tmp_path / "nope.toml")
