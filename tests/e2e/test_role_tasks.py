"""Tasks addressed to roles, other tasks and 1C's users groups, end to end (design 5.5, 6.11).

A real worker runs against the 1C emulator (odata and http connectors), the Bot API emulator
and Redis; 1C is changed through the emulator's control API as a 1C administrator would change
it, and approvers act only through the Telegram emulator.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from gateway.domain.tasks import Decision
from gateway.presentation import callbacks
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from tests.e2e.conftest import Approver, wait_for

pytestmark = pytest.mark.usefixtures("worker")

CANDIDATES = ("Петрова", "Морозов", "Волков")
USERS_GROUP = "Согласующие через Telegram"


def performers(onec: RunningSandbox, surnames: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"user": onec.client.user(s)["id"], "organization": None} for s in surnames]


def start_role_approval(onec: RunningSandbox, surnames: tuple[str, ...], purpose: str) -> dict:
    """An approval whose one stage is addressed to a new role with these performers."""
    role = onec.client.create_role("Финансовый директор", performers(onec, surnames))
    created = onec.client.create_approval(
        route=[{"role": role}],
        initiator=onec.client.user("Иванов")["id"],
        fields={"СуммаДокумента": "515000.00", "НазначениеПлатежа": purpose},
    )
    return {**created, "role": role}


def shows(approver: Approver, message_id: int, text: str) -> bool:
    return text in approver.text_of(approver.message(message_id))


def has_no_buttons(approver: Approver, message_id: int) -> bool:
    return approver.buttons(approver.message(message_id)) == []


@pytest.fixture
def candidates(make_approver) -> list[Approver]:
    made = [make_approver(surname) for surname in CANDIDATES]
    for approver in made:
        approver.connect()
    return made


def test_a_role_task_reaches_every_candidate_and_the_first_decision_wins(
    onec: RunningSandbox, candidates: list[Approver]
) -> None:
    created = start_role_approval(onec, CANDIDATES, "Оплата лизинга за ноябрь")
    cards = [approver.card("Оплата лизинга") for approver in candidates]
    for approver, card in zip(candidates, cards, strict=True):
        assert approver.buttons(card) == ["Согласовать", "Вернуть инициатору"]

    first, *others = candidates
    # 1C unreachable keeps the first decision on its way, so the second press surely meets it.
    onec.client.set_fault("down")
    accepted = first.answer_to(first.press(cards[0]["message_id"], "Согласовать"))
    assert "Принято" in accepted["text"]
    refused = others[0].answer_to(others[0].press(cards[1]["message_id"], "Согласовать"))
    assert refused["show_alert"] is True
    assert "уже принял другой согласующий" in refused["text"]
    onec.client.clear_fault()
    wait_for(
        lambda: onec.client.task(created["task_id"])["state"] == "completed",
        "1C to complete the task",
    )
    task = onec.client.task(created["task_id"])
    assert task["performer"]["id"] == first.onec_user["id"]  # not the gateway's service user
    for approver, card in zip(others, cards[1:], strict=True):
        wait_for(
            functools.partial(shows, approver, card["message_id"], f"✅ Согласовано: {first.name}"),
            f"{approver.name}'s card to say who decided",
        )
        assert approver.buttons(approver.message(card["message_id"])) == []
    assert len(onec.client.approvals(created["document_id"])[0]["tasks"]) == 1


def test_a_candidate_added_in_1c_gets_the_card_and_a_removed_one_loses_it(
    onec: RunningSandbox, candidates: list[Approver], make_approver
) -> None:
    newcomer: Approver = make_approver("Иванов")
    newcomer.connect()
    created = start_role_approval(onec, CANDIDATES, "Аренда офиса в Екатеринбурге")
    removed = candidates[2]
    card = removed.card("Аренда офиса")
    onec.client.set_role_performers(
        created["role"], performers(onec, ("Петрова", "Морозов", "Иванов"))
    )
    assert newcomer.buttons(newcomer.card("Аренда офиса"))[0] == "Согласовать"
    wait_for(
        lambda: shows(removed, card["message_id"], "Задача больше не адресована вам"),
        "the removed candidate's card to close",
    )
    assert removed.buttons(removed.message(card["message_id"])) == []


@pytest.mark.settings(ONEC_OTHER_TASKS="notify")
def test_an_assignment_comes_for_information_without_buttons_and_is_never_executed(
    onec: RunningSandbox, candidates: list[Approver], gateway_settings: Settings
) -> None:
    approver = candidates[0]
    made = onec.client.create_assignment(
        "Ознакомиться с регламентом закупок", approver.onec_user["id"]
    )
    card = approver.wait_message("Ознакомиться с регламентом закупок")
    assert "Для сведения: задача выполняется в 1С" in approver.text_of(card)
    assert approver.buttons(card) == []
    # A client forging a press on the assignment, with data even signed right, changes nothing.
    start_role_approval(onec, (CANDIDATES[0],), "Карточка с кнопками")
    other_card = approver.card("Карточка с кнопками")
    task = onec.client.task(made["task_id"])
    secret = gateway_settings.gateway_secret.reveal()
    data = callbacks.sign(secret, approver.user_id, Decision.APPROVE, task["id"], task["version"])
    answer = approver.answer_to(approver.press(other_card["message_id"], "Согласовать", data=data))
    assert answer["show_alert"] is True
    assert "выполняется в 1С" in answer["text"]
    assert onec.client.task(made["task_id"])["state"] == "pending"


@pytest.mark.settings(ONEC_OTHER_TASKS="off")
def test_an_assignment_is_not_delivered_when_other_tasks_are_off(
    onec: RunningSandbox, candidates: list[Approver]
) -> None:
    approver = candidates[0]
    onec.client.create_assignment("Подготовить отчёт по закупкам", approver.onec_user["id"])
    start_role_approval(onec, (CANDIDATES[0],), "Контрольная заявка")
    approver.card("Контрольная заявка")  # a later task arrived: the assignment was passed over
    assert not any("Подготовить отчёт" in approver.text_of(m) for m in approver.bot_messages())


def test_a_stopped_process_role_task_is_announced_as_cancelled_to_every_candidate(
    onec: RunningSandbox, candidates: list[Approver]
) -> None:
    created = start_role_approval(onec, CANDIDATES, "Покупка оборудования")
    cards = [approver.card("Покупка оборудования") for approver in candidates]
    onec.client.stop_process(created["approval_id"])
    for approver, card in zip(candidates, cards, strict=True):
        notice = approver.wait_message("Согласование отменено: ", f"{approver.name}'s notice")
        assert "Покупка оборудования" in approver.text_of(notice) or notice.get("document")
        wait_for(
            functools.partial(has_no_buttons, approver, card["message_id"]),
            f"{approver.name}'s card to lose its buttons",
        )


@pytest.mark.settings(ONEC_USERS_GROUP=USERS_GROUP)
def test_outside_the_users_group_nobody_connects_and_leaving_it_unlinks(
    onec: RunningSandbox, make_approver
) -> None:
    members = [onec.client.user(s)["id"] for s in CANDIDATES]
    group = onec.client.create_user_group(USERS_GROUP, members)
    outsider: Approver = make_approver("Иванов")
    outsider.telegram.client.share_contact(outsider.user_id)
    refusal = outsider.wait_message("не входит в группу пользователей")
    assert f"«{USERS_GROUP}»" in outsider.text_of(refusal)
    assert "администратора 1С" in outsider.text_of(refusal)
    assert not any("Подключение установлено" in outsider.text_of(m) for m in outsider.messages())

    staying, leaving = make_approver("Петрова"), make_approver("Волков")
    staying.connect()
    leaving.connect()
    start_role_approval(onec, CANDIDATES, "Ремонт склада")
    card = leaving.card("Ремонт склада")
    onec.client.set_group_members(group, members[:2])
    leaving.wait_message("больше не входит в группу", "the unlinked user's notice")
    assert leaving.buttons(leaving.message(card["message_id"])) == []
    leaving.say("/tasks")
    leaving.wait_message("Поделиться номером телефона")  # unlinked: asked to connect again
    assert staying.buttons(staying.card("Ремонт склада"))[0] == "Согласовать"


@pytest.mark.settings(ONEC_ADMINS_GROUP="Администраторы бота")
def test_members_of_the_admins_group_have_status_without_an_invite_until_they_leave(
    onec: RunningSandbox, candidates: list[Approver]
) -> None:
    member, other = candidates[0], candidates[1]
    group = onec.client.create_user_group("Администраторы бота", [member.onec_user["id"]])

    def status_answer(approver: Approver) -> str:
        before = len(approver.bot_messages())
        approver.say("/status")
        found = wait_for(lambda: approver.bot_messages()[before:], "the answer to /status")
        return approver.text_of(found[-1])

    wait_for(lambda: "Состояние шлюза" in status_answer(member), "the member to be an admin")
    assert "только администраторам" in status_answer(other)
    onec.client.set_group_members(group, [])
    wait_for(lambda: "только администраторам" in status_answer(member), "the admin right to go")
