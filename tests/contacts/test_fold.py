"""Search folding: the quick Latin-1 path gives what the general one gives."""

from __future__ import annotations

import pytest

from projections.search import _ascii_umlauts, _lower, fold, fold_one

SAMPLES = [
    "Grüße aus Köln, Straße 5 — ÄÖÜ äöü ß",
    "MÜLLER & Söhne GmbH: Größe XL, Preis 12,50 €",  # € is not Latin-1: the general path
    "“Angebot” für Frau Öztürk",
    "İstanbul ǅ ﬀ Σσς",
    "e\u0301 a\u0308",  # decomposed: made NFC by the general path
    "",
]


@pytest.mark.parametrize("text", [chr(i) for i in range(256)] + SAMPLES)
def test_fold_one_is_lower_case_with_ascii_umlauts(text: str) -> None:
    assert fold_one(text) == _ascii_umlauts(_lower(text))


def test_umlauts_fold_to_their_ascii_spelling() -> None:
    assert fold_one("Grüße aus Köln, MÜLLER") == "gruesse aus koeln, mueller"


def test_a_card_text_holds_every_spelling_of_its_umlauts() -> None:
    assert fold("Jörg Groß") == "jörg groß joerg gross jorg gross"
    assert fold("Straße") == "straße strasse"  # no vowel: the plain spelling is the same
    assert fold("Anna Schmidt") == "anna schmidt"
