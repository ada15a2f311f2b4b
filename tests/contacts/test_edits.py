"""The card form, pure: what an edit changes is what the user changed on the form."""

from __future__ import annotations

import pytest

from hub.contacts import edits
from hub.contacts.model import Contact
from hub.events.contacts import Phone

FIRM = Contact(
    contact_id="c1",
    version=1,
    kind="company",
    company="Kühn GmbH",
    emails=("Info@Kuehn.example",),  # written in upper case by an older version
    phones=(
        Phone(number="+4930887470", label="switchboard", raw="030 88747-0"),
        Phone(number="+49308874799", label="work"),  # a label the form does not offer
    ),
    notes="Zeile 1\r\nZeile 2 ",
)


def posted(form: edits.CardForm, **changed: list[str]) -> dict[str, list[str]]:
    fields = {name: [value] for name, value in form.texts.items()}
    fields["phones"] = [number for number, _ in form.phones or ()]
    fields["phone_labels"] = [label for _, label in form.phones or ()]
    return {**fields, **changed}


def test_the_form_as_shown_changes_nothing() -> None:
    form = edits.submitted(posted(edits.shown(FIRM)))
    assert edits.changes(FIRM, form) == {}


def test_an_older_form_without_labels_keeps_each_numbers_label_and_form() -> None:
    form = edits.submitted({"phones": ["030 88747-0, +49308874799, 0171 2345678"]})
    phones = edits.changes(FIRM, form)["phones"]
    assert phones == (
        *FIRM.phones,
        Phone(number="+491712345678", label="mobile", raw="0171 2345678"),
    )


def test_a_retyped_number_keeps_its_label_and_takes_the_new_form() -> None:
    fields = posted(edits.shown(FIRM), phones=["030 887470", "+49308874799"])
    phones = edits.changes(FIRM, edits.submitted(fields))["phones"]
    assert phones[0] == Phone(number="+4930887470", label="switchboard", raw="030 887470")


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("phones", ["keine Nummer", ""], "Not a phone number: {text}"),
        ("emails", ["info@kuehn.example, Frau Kühn"], "Not an email address: {text}"),
    ],
)
def test_values_that_cannot_go_on_a_card_are_refused(
    field: str, value: list[str], key: str
) -> None:
    with pytest.raises(edits.FormError) as refused:
        edits.changes(FIRM, edits.submitted(posted(edits.shown(FIRM), **{field: value})))
    assert refused.value.key == key
