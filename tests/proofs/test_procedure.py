"""The Verfahrensdokumentation is generated from a real configuration and the archive."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from hub.proofs import heads
from hub.proofs.log import MerkleLog
from hub.proofs.procedure import facts, render
from hub.settings import settings_from_dict


async def test_the_document_states_the_configuration_and_hides_secrets(
    logged: MerkleLog, tmp_path: Path
) -> None:
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "mail": {
                "own_domains": ["firma.example"],
                "imap": [
                    {
                        "name": "info",
                        "host": "imap.firma.example",
                        "username": "info@firma.example",
                        "password": "geheim-123",
                        "folders": ["<script>alert(1)</script>"],
                    }
                ],
                "smtp": {"enabled": True, "users": {"scanner": "smtp-geheim"}},
            },
            "archive": {"tsa_url": "https://tsa.example/tsr", "sign_time": "22:15"},
        }
    )
    html = render(settings, await facts(settings, logged), "Müller & Söhne GmbH")
    assert "<h1>Verfahrensdokumentation zur Archivierung von E-Mails und Faxen</h1>" in html
    assert "Müller &amp; Söhne GmbH" in html
    assert "info@firma.example auf\nimap.firma.example:993" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "geheim-123" not in html and "smtp-geheim" not in html
    assert "5 empfangene und 0 gesendete E-Mails" in html
    assert "derzeit 6 Einträge" in html and "täglich um 22:15 Uhr" in html
    assert "durch https://tsa.example/tsr;\n0 Zeitstempel vorhanden" in html
    der = heads.load_public(tmp_path).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert hashlib.sha256(der).hexdigest() in html
