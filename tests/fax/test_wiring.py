"""[fax] settings wire the SMTP fax intake, the IMAP fax folder and the OCR policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.fax.build import fax_adapters, fax_policies
from hub.settings import ConfigError, Settings, load_settings


def test_fax_is_off_by_default() -> None:
    assert fax_adapters(Settings()) == [] and fax_policies(Settings()) == []


def test_enabled_fax_builds_intakes_and_policy(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    (tmp_path / "own.toml").write_text("[[profile]]\nname = 'own'\n")
    config.write_text(
        "[[mail.imap]]\nname = 'office'\nhost = 'imap.example'\nusername = 'u'\n"
        "[fax]\nenabled = true\nimap_account = 'office'\nimap_folder = 'Fax'\n"
        "providers_file = 'own.toml'\nocr_languages = 'deu'\n"
    )
    settings = load_settings(config)
    smtp, imap = fax_adapters(settings)
    assert (smtp.name, imap.name) == ("fax-smtp", "fax-imap:office")
    assert [p.name for p in smtp.intake.rules.profiles] == ["own"]  # type: ignore[attr-defined]
    [policy] = fax_policies(settings)
    assert policy.name == "fax-ocr"


def test_unknown_imap_account_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text("[fax]\nenabled = true\nimap_account = 'nope'\nimap_folder = 'Fax'\n")
    with pytest.raises(ConfigError, match="nope"):
        fax_adapters(load_settings(config))
    (tmp_path / "bad.toml").write_text("[[profile]]\nname = 'x'\nsender = ['(']\n")
    config.write_text("[fax]\nenabled = true\nproviders_file = 'bad.toml'\n")
    with pytest.raises(ConfigError, match="bad pattern"):
        fax_adapters(load_settings(config))
    config.write_text("[fax]\nocr_languages = 'deu; rm -rf /'\n")
    with pytest.raises(ConfigError):
        load_settings(config)
