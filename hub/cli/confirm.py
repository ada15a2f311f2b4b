"""A yes-or-no question on the command line in the configured language: German asks
"[j/N]" and takes "j" or "ja"; "y" and "yes" are taken in either language (scripts and
tests answer in English). Anything else, or nothing, is no."""

from __future__ import annotations

import typer

from hub.cli.words import Words

YES = frozenset({"y", "yes", "j", "ja"})


def confirmed(question: str, say: Words) -> bool:
    """`question` is already worded; the hint "[y/N]" is translated here."""
    answer = typer.prompt(
        f"{question} {say('[y/N]')}", default="", show_default=False, prompt_suffix=" "
    )
    return str(answer).strip().casefold() in YES
