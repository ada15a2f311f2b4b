"""The signature's delimiter is found wherever a plain search finds it."""

from __future__ import annotations

import random

from adapters.mail import text
from adapters.mail.text import signature_numbers


def test_the_delimiter_search_agrees_with_a_plain_search() -> None:
    rng = random.Random(3)
    cases = ["", "-", "--", "-- ", "a--- b", "--x-- ", "-" * 200, "-" * 200 + " ", "- - -- "]
    cases += ["".join(rng.choices("- x\n", k=rng.randrange(80))) for _ in range(3000)]
    for case in cases:
        assert text._has_delimiter(case) == ("-- " in case), case


def test_numbers_after_a_delimiter_below_a_ruler_of_dashes() -> None:
    body = "Gruß\n" + "-" * 300 + "\nText\n-- \nAnna\nTel.: 030 1234567\n\nFax 030 7654321\n"
    assert signature_numbers(body) == ("phone:030 1234567", "fax:030 7654321")
