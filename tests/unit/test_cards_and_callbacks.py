"""Cards within Telegram's limits, signed callback data, and the two text catalogs."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.domain.tasks import Decision, Field
from gateway.presentation import callbacks, cards
from gateway.presentation.texts import Texts, catalog_keys
from tests.factories import make_task

SECRET = "unit-secret-0123456789"
TASK_ID = "6f1c1b9e-0000-4000-8000-000000000001"  # a GUID: callback data packs it


def test_callback_data_is_signed_for_one_chat_and_fits_64_bytes() -> None:
    task = make_task(TASK_ID)
    data = callbacks.sign(SECRET, 1001, Decision.RETURN_INITIATOR, task.id, task.version)
    assert len(data.encode()) <= callbacks.MAX_CALLBACK_DATA_BYTES
    press = callbacks.verify(SECRET, 1001, data)
    assert press.decision is Decision.RETURN_INITIATOR
    assert press.task_id == task.id
    assert press.version_tag == callbacks.version_tag(task.version)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: "i" + d[1:],  # approve turned into a return
        lambda d: d[:-1] + ("A" if d[-1] != "A" else "B"),
        lambda d: d + "x",
        lambda d: "garbage",
        lambda d: "",
    ],
)
def test_tampered_callback_data_is_refused(tamper) -> None:
    task = make_task(TASK_ID)
    data = callbacks.sign(SECRET, 1001, Decision.APPROVE, task.id, task.version)
    with pytest.raises(callbacks.InvalidCallback):
        callbacks.verify(SECRET, 1001, tamper(data))


def test_data_signed_for_one_chat_is_refused_in_another_and_under_another_secret() -> None:
    task = make_task(TASK_ID)
    data = callbacks.sign(SECRET, 1001, Decision.APPROVE, task.id, task.version)
    with pytest.raises(callbacks.InvalidCallback):
        callbacks.verify(SECRET, 1002, data)
    with pytest.raises(callbacks.InvalidCallback):
        callbacks.verify("another-secret-0123456789", 1001, data)


def test_a_non_guid_task_id_round_trips() -> None:
    data = callbacks.sign(SECRET, 5, Decision.APPROVE, "T-42", "v1")
    assert callbacks.verify(SECRET, 5, data).task_id == "T-42"


def test_the_keyboard_offers_only_allowed_decisions_in_order() -> None:
    task = make_task(allowed_decisions=(Decision.RETURN_INITIATOR, Decision.APPROVE))
    rows = cards.keyboard(task, Texts("ru"), SECRET, 7)
    assert [row[0].text for row in rows] == ["Согласовать", "Вернуть инициатору"]
    assert all(len(row[0].callback_data.encode()) <= 64 for row in rows)


def test_the_caption_escapes_1c_text() -> None:
    task = make_task(title="Оплата <b>ООО «Рога & Копыта»</b>")
    text = cards.fit(cards.card_lines(task, Texts("ru")))
    assert "&lt;b&gt;ООО «Рога &amp; Копыта»&lt;/b&gt;" in text
    assert cards.visible_text(text).startswith("Оплата <b>ООО «Рога & Копыта»</b>")


def test_a_huge_card_is_cut_to_1024_visible_characters_keeping_the_tail() -> None:
    long_fields = tuple(Field(f"Поле {n}", "Длинное значение " * 40) for n in range(10))
    task = make_task(subject=dataclasses.replace(make_task().subject, fields=long_fields))
    tail = ["<i>PDF: печатная форма 1С</i>", "✅ Согласовано: Иванова, 27.11.2026 10:15"]
    text = cards.fit(cards.card_lines(task, Texts("ru")), tail)
    assert cards.visible_length(text) <= cards.CAPTION_LIMIT
    assert text.endswith(tail[-1])
    assert text.startswith("<b>")  # the title stays


def test_a_single_line_longer_than_the_limit_is_shortened_with_an_ellipsis() -> None:
    task = make_task(title="Я" * 3000)
    text = cards.fit(cards.card_lines(task, Texts("ru"))[:1], ["хвост"])
    assert cards.visible_length(text) <= cards.CAPTION_LIMIT
    assert "…" in text and text.endswith("хвост")


def test_visible_length_counts_utf16_units_like_telegram() -> None:
    assert cards.visible_length("<b>😀</b> &amp;") == 4  # emoji = 2 units, space, &


def test_both_languages_have_the_same_texts() -> None:
    assert catalog_keys("ru") == catalog_keys("en")


def test_english_texts_are_chosen_with_gateway_language_en() -> None:
    assert Texts("en").button(Decision.APPROVE) == "Approve"
    assert Texts("xx").button(Decision.APPROVE) == "Согласовать"  # unknown → Russian


def test_a_sync_pass_takes_approvers_in_turn() -> None:
    from gateway.domain.tasks import Person
    from gateway.usecases.sync import _interleaved

    plan = [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2)]
    tasks = [make_task(id=f"{who}{n}", performer=Person(who, who)) for who, n in plan]
    order = [t.id for t in _interleaved(tasks)]
    assert order == ["a1", "b1", "a2", "b2", "a3"]
