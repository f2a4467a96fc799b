"""Cards, buttons and alerts of a named base (ONEC_BASES) say which base they belong to; a
single base's stay exactly as they were."""

from __future__ import annotations

import pytest

from gateway.domain.infobases import Infobase
from gateway.domain.tasks import Decision
from gateway.presentation import callbacks, cards
from gateway.presentation.texts import Texts
from gateway.usecases import cards_io
from gateway.usecases.alerts import alert_admins
from gateway.usecases.press import on_press
from tests.factories import make_link, make_press, make_task
from tests.fakes import SECRET, FakeMessenger, FakeOneC, InMemoryStore, make_context

TASK_ID = "6f1c1b9e-0000-4000-8000-000000000001"
UH = Infobase("uh", "УХ")


def test_data_of_a_named_base_carries_the_base_fits_64_bytes_and_round_trips() -> None:
    task = make_task(TASK_ID)
    data = callbacks.sign(SECRET, 1001, Decision.RETURN_INITIATOR, task.id, task.version, "erp")
    assert len(data.encode()) <= callbacks.MAX_CALLBACK_DATA_BYTES
    assert data.split(":")[3] == "erp"
    press = callbacks.verify(SECRET, 1001, data)
    assert (press.base, press.task_id, press.decision) == (
        "erp",
        TASK_ID,
        Decision.RETURN_INITIATOR,
    )
    assert callbacks.base_of(data) == "erp"


def test_the_longest_base_name_still_fits_64_bytes() -> None:
    data = callbacks.sign(SECRET, -100123456789, Decision.APPROVE, TASK_ID, "v", "abcdefghij")
    assert len(data.encode()) <= callbacks.MAX_CALLBACK_DATA_BYTES


def test_single_base_data_is_as_before_and_names_no_base() -> None:
    data = callbacks.sign(SECRET, 1001, Decision.APPROVE, TASK_ID, "v")
    assert data.count(":") == 3
    assert callbacks.verify(SECRET, 1001, data).base == ""
    assert callbacks.base_of(data) == ""


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace(":uh:", ":erp:"),  # moved to another base
        lambda d: d.replace(":uh:", ":"),  # the base dropped
        lambda d: d.replace(":uh:", ":UH:"),  # not a base name
        lambda d: d.replace(":uh:", ":uh:x:"),
    ],
)
def test_the_signature_covers_the_base(tamper) -> None:
    data = callbacks.sign(SECRET, 1001, Decision.APPROVE, TASK_ID, "v", "uh")
    with pytest.raises(callbacks.InvalidCallback):
        callbacks.verify(SECRET, 1001, tamper(data))


def test_base_of_reads_nothing_from_malformed_data() -> None:
    assert callbacks.base_of("garbage") == ""
    assert callbacks.base_of("a:b:c:Не-база:d") == ""


def test_a_card_of_a_named_base_opens_with_its_title_on_the_title_line() -> None:
    task = make_task(title="Заявка 42")
    lines = cards.card_lines(task, Texts("ru"), base=UH)
    assert lines[0] == "<b>УХ</b> · <b>Заявка 42</b>"
    assert cards.card_lines(task, Texts("ru"), base=Infobase())[0] == "<b>Заявка 42</b>"
    assert cards.card_lines(task, Texts("ru"))[0] == "<b>Заявка 42</b>"


def test_a_base_without_a_title_is_shown_by_its_name_upper_cased() -> None:
    assert cards.base_title(Infobase("erp")) == "ERP"


def test_a_named_base_sends_cards_labelled_and_buttons_signed_for_it() -> None:
    task = make_task(TASK_ID, title="Заявка 42")
    link = make_link()
    ctx = make_context(base=UH, onec=FakeOneC([task]), send_pdf=False)
    assert cards_io.deliver(ctx, task, link)
    messenger = ctx.messenger
    assert isinstance(messenger, FakeMessenger)
    sent = messenger.sent[-1]
    assert sent.html.startswith("<b>УХ</b> · <b>Заявка 42</b>")
    assert isinstance(sent.markup, list)
    data = sent.markup[0][0].callback_data
    assert callbacks.verify(SECRET, link.chat_id, data).base == "uh"


def test_a_press_signed_for_another_base_is_refused_as_forged() -> None:
    task = make_task(TASK_ID)
    link = make_link()
    onec = FakeOneC([task])
    onec.add_users_of(link)
    store = InMemoryStore()
    store.save_link(link)
    ctx = make_context(store, base=UH, onec=onec)
    data = callbacks.sign(SECRET, link.chat_id, Decision.APPROVE, task.id, task.version, "erp")
    on_press(ctx, make_press(data, chat_id=link.chat_id))
    assert isinstance(ctx.messenger, FakeMessenger)
    assert ctx.messenger.answer_texts() == [Texts("ru").t("alert.forged")]
    assert onec.requests == [] and store.outbox_depth() == 0


@pytest.mark.parametrize(
    ("base", "language", "expected"),
    [
        (UH, "ru", "<b>УХ</b> · ⚠️ тревога"),
        (UH, "en", "<b>УХ</b> · ⚠️ тревога"),
        (Infobase(), "ru", "⚠️ тревога"),
    ],
)
def test_alerts_of_a_named_base_name_it(base: Infobase, language: str, expected: str) -> None:
    store = InMemoryStore()
    store.save_link(make_link(100, admin=True))
    ctx = make_context(store, base=base, texts=Texts(language))
    alert_admins(ctx, "⚠️ тревога")
    assert isinstance(ctx.messenger, FakeMessenger)
    assert ctx.messenger.to(100) == [expected]
