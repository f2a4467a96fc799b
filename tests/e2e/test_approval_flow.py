"""The approval flow end to end (design section 6), scripted as an approver would act.

A real worker runs against the 1C emulator (http and odata connectors), the Bot API emulator
and Redis; the approver acts only through the Telegram emulator's control API.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.entrypoints.worker import Worker
from gateway.usecases.sync import sync_pass
from sandbox.onec.harness import RunningSandbox
from tests.e2e.conftest import (
    Approver,
    approve_with_1c_down,
    start_approval,
    task_state,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("worker")

BOTH = ["Морозов", "Волков"]


# --- 1, 2: onboarding ---------------------------------------------------------------------------


def test_anyone_not_linked_gets_an_explanation_and_the_share_phone_button(make_approver) -> None:
    approver: Approver = make_approver("Морозов")
    approver.say("Привет")
    approver.wait_message("Поделиться номером телефона")
    keyboard = approver.telegram.client.keyboard(approver.user_id)["reply_keyboard"]
    button = keyboard["keyboard"][0][0]
    assert button == {"text": "Поделиться номером телефона", "request_contact": True}


def test_sharing_the_own_contact_links_and_delivers_pending_tasks(
    make_approver, onec: RunningSandbox
) -> None:
    start_approval(onec, ["Морозов"], "Оплата аренды склада")
    approver: Approver = make_approver("Морозов")
    approver.telegram.client.share_contact(approver.user_id)
    confirmation = approver.wait_message("Подключение установлено: Морозов Дмитрий Олегович")
    assert "Задач на согласовании:" in approver.text_of(confirmation)
    card = approver.card("Оплата аренды склада")
    assert card["document"]["file_name"].endswith(".pdf")
    assert approver.buttons(card)[0] == "Согласовать"
    pdf = approver.telegram.client.file(card["document"]["file_id"])
    assert pdf.startswith(b"%PDF")


def test_someone_elses_contact_is_refused(make_approver) -> None:
    approver: Approver = make_approver("Морозов")
    approver.telegram.client.share_contact(
        approver.user_id, phone_number="+79123456789", first_name="Иван", contact_user_id=999
    )
    approver.wait_message("Это не ваш контакт")
    assert not any("Подключение установлено" in approver.text_of(m) for m in approver.messages())


def test_an_unknown_number_is_named_and_sent_to_the_1c_administrator(make_approver) -> None:
    approver: Approver = make_approver("Морозов", phone="+7 (999) 000-11-22")
    approver.telegram.client.share_contact(approver.user_id)
    message = approver.wait_message("не найден")
    assert "+79990001122" in approver.text_of(message)
    assert "администратора 1С" in approver.text_of(message)


def test_a_number_on_two_1c_users_is_refused(make_approver) -> None:
    approver: Approver = make_approver("Сидоров")
    approver.telegram.client.share_contact(approver.user_id)
    approver.wait_message("указан у нескольких пользователей 1С")


def test_an_invalid_1c_user_cannot_connect(make_approver) -> None:
    approver: Approver = make_approver("Кузнецова")  # Недействителен in 1C
    approver.telegram.client.share_contact(approver.user_id)
    approver.wait_message("не найден")


# The OData connector re-reads its phone directory every 10 minutes; http asks 1C each time.
@pytest.mark.parametrize("connector", ["http"])
def test_a_phone_changed_in_1c_unlinks_and_asks_again(
    make_approver, onec: RunningSandbox, connector: str
) -> None:
    approver: Approver = make_approver("Волков")
    approver.connect()
    onec.client.edit_user(approver.onec_user["id"], phones=["+7 (912) 999-77-66"])
    approver.say("/tasks")
    message = approver.wait_message("Подключение к 1С сброшено")
    assert "+79129990011" in approver.text_of(message)
    keyboard = approver.telegram.client.keyboard(approver.user_id)["reply_keyboard"]
    assert keyboard["keyboard"][0][0]["request_contact"] is True


# --- 3, 4, 5: cards and decisions ----------------------------------------------------------------


def test_the_card_shows_the_task_and_only_its_allowed_decisions(open_card) -> None:
    _, approver, card = open_card(BOTH, "Ремонт кровли цеха <№2> & склада", find="Ремонт кровли")
    text = approver.text_of(card)
    assert "Ремонт кровли цеха <№2> & склада" in text  # escaped for HTML, shown as written
    assert "Инициатор: Иванов Иван Петрович" in text
    assert "1 из 2" in text
    assert approver.buttons(card) == ["Согласовать", "Вернуть инициатору"]  # stage 1: no previous


def test_approve_acts_at_once_and_the_card_shows_the_outcome(
    open_card, onec: RunningSandbox
) -> None:
    created, approver, card = open_card(BOTH, "Закупка серверов")
    update = approver.press(card["message_id"], "Согласовать")
    assert "Принято" in approver.answer_to(update)["text"]
    wait_for(lambda: task_state(onec, created["task_id"]) == "completed", "1C to complete the task")
    outcome = "✅ Согласовано: Морозов Дмитрий Олегович"
    approver.wait_shows(card, outcome, "the card to show the outcome")
    assert approver.buttons(approver.message(card["message_id"])) == []
    approval = onec.client.approvals(created["document_id"])[0]
    assert [t["stage"] for t in approval["tasks"]] == [1, 2]  # moved to Волков, once
    # 1C answered at once: the outcome is the card's only edit, no "passing to 1C" before it.
    assert len(card_edits(approver, card)) == 1


def card_edits(approver: Approver, card: dict) -> list[dict]:
    """The Bot API calls that edited `card` (from the emulator's call log)."""
    return [
        call
        for call in approver.telegram.client.calls()
        if call["method"].startswith("editMessage")
        and call["params"].get("message_id") == card["message_id"]
        and int(call["params"].get("chat_id", 0)) == approver.user_id
    ]


def test_a_slow_1c_shows_passing_to_1c_until_the_outcome(open_card, onec: RunningSandbox) -> None:
    created, approver, card = open_card(BOTH, "Медленная 1С")
    onec.client.set_fault("slow", seconds=2)
    approver.press(card["message_id"], "Согласовать")
    approver.wait_passing_on(card)
    approver.wait_shows(card, "✅ Согласовано", "the final outcome on the card", timeout=30)
    onec.client.clear_fault()
    assert task_state(onec, created["task_id"]) == "completed"
    assert len(card_edits(approver, card)) == 2  # passing to 1C, then the outcome


def test_a_return_asks_for_a_reason_first_and_sends_it_as_the_comment(
    open_card, onec: RunningSandbox
) -> None:
    created, approver, card = open_card(["Морозов"], "Командировка в Пермь")
    approver.press(card["message_id"], "Вернуть инициатору")
    prompt = approver.wait_message("Укажите причину")
    assert approver.telegram.client.keyboard(approver.user_id)["force_reply"]
    assert task_state(onec, created["task_id"]) == "pending"  # nothing decided yet
    approver.say("Нет сметы", reply_to=prompt["message_id"])
    wait_for(lambda: task_state(onec, created["task_id"]) == "completed", "the return in 1C")
    task = onec.client.task(created["task_id"])
    assert task["result"]["decision"] == "return_initiator"
    assert "Нет сметы" in task["result"]["comment"]

    def shown() -> bool:
        text = approver.text_of(approver.message(card["message_id"]))
        return "Возвращено инициатору" in text and "Нет сметы" in text

    wait_for(shown, "the card to show the return and its reason")


def test_cancel_aborts_a_return(open_card, onec: RunningSandbox) -> None:
    created, approver, card = open_card(["Морозов"], "Подписка на журналы")
    approver.press(card["message_id"], "Вернуть инициатору")
    approver.wait_message("Укажите причину")
    approver.say("/cancel")
    approver.wait_message("Ввод причины отменён")
    approver.say("Передумал")  # no longer taken as a reason
    approver.wait_message("/tasks")
    assert task_state(onec, created["task_id"]) == "pending"


@pytest.mark.settings(REMIND_AFTER_HOURS="0.0005", WORK_HOURS="00-24")
def test_a_task_left_pending_is_brought_up_again(open_card) -> None:
    _, approver, card = open_card(["Морозов"], "Напоминание о задаче")
    reminder = approver.wait_message("Напоминание: задача ждёт вашего решения")
    assert reminder["reply_to_message"]["message_id"] in {
        m["message_id"] for m in approver.bot_messages() if approver.buttons(m)
    }
    assert approver.buttons(approver.message(card["message_id"]))  # the card stays open


@pytest.mark.settings(REMIND_AFTER_HOURS="0.0005", WORK_HOURS="00-01")
def test_no_reminder_outside_working_hours(
    make_approver, onec: RunningSandbox, worker: Worker
) -> None:
    worker.ctx.now = lambda: datetime(2026, 11, 27, 15, 0).astimezone()  # 15:00, outside 00-01
    start_approval(onec, ["Морозов"], "Без напоминания ночью")
    approver: Approver = make_approver("Морозов")
    approver.connect()
    approver.card("Без напоминания ночью")
    worker.stop()
    worker.ctx.now = lambda: datetime(2026, 11, 27, 18, 0).astimezone()  # hours later, still out
    assert sync_pass(worker.ctx).reminded == 0
    worker.ctx.now = lambda: datetime(2026, 11, 28, 0, 30).astimezone()  # inside 00-01
    assert sync_pass(worker.ctx).reminded >= 1  # each of his open cards, once
    approver.wait_message("Напоминание: задача ждёт вашего решения")


# --- 6, 7: who may press, and presses on finished tasks -----------------------------------------


def test_forged_button_data_gets_an_alert_and_changes_nothing(
    open_card, onec: RunningSandbox
) -> None:
    created, approver, card = open_card(["Морозов"], "Поддельная кнопка")
    real = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    answer = approver.answer_to(approver.press(card["message_id"], "Согласовать", data=forged))
    assert answer["show_alert"] is True
    assert "недействительна" in answer["text"]
    assert task_state(onec, created["task_id"]) == "pending"


def test_data_signed_for_another_chat_is_refused(make_approver, onec: RunningSandbox) -> None:
    created = start_approval(onec, ["Морозов"], "Чужая кнопка")
    owner: Approver = make_approver("Морозов")
    owner.connect()
    data = owner.card("Чужая кнопка")["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    other: Approver = make_approver("Волков")
    other.connect()
    start_approval(onec, ["Волков"], "Своя задача")
    own_card = other.card("Своя задача")
    answer = other.answer_to(other.press(own_card["message_id"], "Согласовать", data=data))
    assert "недействительна" in answer["text"]
    assert task_state(onec, created["task_id"]) == "pending"


def test_a_task_done_in_1c_is_brought_up_to_date(open_card, onec: RunningSandbox) -> None:
    created, approver, card = open_card(BOTH, "Выполнено в 1С")
    onec.client.complete_task(created["task_id"])

    def closed() -> bool:
        message = approver.message(card["message_id"])
        return not approver.buttons(message) and (
            "выполнена в 1С" in approver.text_of(message)
            or "Согласовано" in approver.text_of(message)
        )

    wait_for(closed, "the card to say it was done in 1C")


def test_a_press_on_a_task_already_done_gets_an_alert(
    open_card, onec: RunningSandbox, worker: Worker
) -> None:
    created, approver, card = open_card(BOTH, "Двойное согласование")
    worker.stop()  # no sync pass may close the card before the press
    onec.client.complete_task(created["task_id"])
    worker.ctx.prompts.delete_prompt(approver.user_id)
    from gateway.domain.incoming import IncomingPress
    from gateway.usecases.dispatch import handle

    update = approver.press(card["message_id"], "Согласовать")
    query = update["callback_query"]
    handle(
        worker.ctx,
        IncomingPress(
            update["update_id"],
            query["id"],
            approver.user_id,
            approver.user_id,
            card["message_id"],
            query["data"],
        ),
    )
    answer = approver.answer_to(update)
    assert answer["show_alert"] is True and "уже выполнена" in answer["text"]
    assert approver.buttons(approver.message(card["message_id"])) == []


# --- 8: 1C unreachable when deciding ------------------------------------------------------------


def test_a_decision_while_1c_is_down_is_kept_and_applied_once_when_back(
    open_card, onec: RunningSandbox
) -> None:
    created, approver, card = open_card(BOTH, "Решение при недоступной 1С")
    approve_with_1c_down(onec, approver, card)
    onec.client.clear_fault()
    wait_for(lambda: task_state(onec, created["task_id"]) == "completed", "the decision in 1C")
    approver.wait_shows(card, "✅ Согласовано", "the final outcome on the card", timeout=30)
    approval = onec.client.approvals(created["document_id"])[0]
    assert [t["stage"] for t in approval["tasks"]] == [1, 2]


# --- 9: cancelled in 1C ---------------------------------------------------------------------------


def test_a_cancelled_approval_is_announced_with_the_document(
    open_card, onec: RunningSandbox
) -> None:
    created, approver, card = open_card(["Морозов"], "Отменяемая заявка")
    onec.client.cancel_approval(created["document_id"])
    notice = approver.wait_message("Согласование отменено: ")
    assert notice["document"]["file_name"].endswith(".pdf")
    wait_for(
        lambda: not approver.buttons(approver.message(card["message_id"])),
        "the old card to lose its keyboard",
    )


# --- 10: commands and admins ---------------------------------------------------------------------


def test_tasks_lists_the_pending_tasks(make_approver, onec: RunningSandbox) -> None:
    start_approval(onec, ["Морозов"], "Для списка задач")
    approver: Approver = make_approver("Морозов")
    approver.connect()
    approver.say("/tasks")
    listing = approver.wait_message("Задачи на согласовании:")
    assert "•" in approver.text_of(listing)


def test_status_is_for_admins_made_with_an_invite(make_approver, worker: Worker) -> None:
    from gateway.usecases.commands import create_invite

    approver: Approver = make_approver("Морозов")
    approver.connect()
    approver.say("/status")
    approver.wait_message("только администраторам")
    code = create_invite(worker.ctx.invites)
    approver.telegram.client.start(approver.user_id, f"admin-{code}")
    approver.wait_message("назначены администратором")
    approver.say("/status")
    approver.wait_message("Состояние шлюза")
    approver.telegram.client.start(approver.user_id, f"admin-{code}")  # spent
    approver.wait_message("недействительна или устарела")


def test_the_command_menu_is_set(telegram, worker: Worker) -> None:
    commands = telegram.client.calls("setMyCommands")
    assert commands, "setMyCommands was not called"
