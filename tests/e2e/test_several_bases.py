"""One bot for two infobases end to end (issue 21): УХ and ERP, one 1C emulator each, a worker with
ONEC_BASES=uh,erp. Морозов is a 1C user in both (other ids and names, the same phone).

УХ is read over the HTTP service (the extension keeps a register of decisions, so "applied once"
can be counted) and ERP over OData: each base has its own connector, as ONEC_<BASE>_CONNECTOR
allows.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.entrypoints.worker import Worker
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from sandbox.onec.seed import SHARED_TASK_PURPOSE
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import Approver, wait_for

UH_TITLE, ERP_TITLE = "УХ", "ERP"
ERP_SHARED_PURPOSE = "Оплата аудиторских услуг"  # the ERP task with the GUID of УХ's shared one
MOROZOV_TELEGRAM_ID = 5101


@pytest.fixture
def gateway_settings(
    env: dict[str, str], onec: RunningSandbox, erp: RunningSandbox, telegram: SandboxServer
) -> Settings:
    """Two bases, what they share unprefixed (the emulators' account), the rest per base (the
    e2e conftest's `gateway` and `worker` run on these)."""
    values = {key: value for key, value in env.items() if key != "ONEC_BASE_URL"}
    values.update(
        TELEGRAM_API_URL=telegram.url,
        ONEC_BASES="uh,erp",
        ONEC_USERNAME=onec.config.user,
        ONEC_PASSWORD=onec.config.password,
        ONEC_PROFILE="sandbox",
        ONEC_APPROVAL_PROCESSES="BusinessProcess_Согласование",
        ONEC_TIMEOUT="5",
        ONEC_POLL_INTERVAL="0.3",
        ONEC_UH_BASE_URL=onec.base_url,
        ONEC_UH_TITLE=UH_TITLE,
        ONEC_UH_CONNECTOR="http",
        ONEC_ERP_BASE_URL=erp.base_url,
        ONEC_ERP_TITLE=ERP_TITLE,
        ONEC_ERP_CONNECTOR="odata",
    )
    return Settings.from_env(values)


@pytest.fixture
def morozov(telegram: SandboxServer, onec: RunningSandbox, worker: Worker) -> Approver:
    """Морозов's Telegram account (the phone both bases have on his cards), linked in both."""
    user = onec.client.user("Морозов")
    telegram.client.create_user(
        MOROZOV_TELEGRAM_ID, first_name="Дмитрий", last_name="Морозов", phone=user["phones"][0]
    )
    approver = Approver(telegram, onec, MOROZOV_TELEGRAM_ID, user)
    approver.connect()
    return approver


def cards(approver: Approver, needle: str = "") -> list[dict[str, Any]]:
    """The approver's cards (messages with decision buttons) containing `needle`."""
    return [
        m
        for m in approver.bot_messages()
        if m.get("reply_markup", {}).get("inline_keyboard") and needle in approver.text_of(m)
    ]


def card_of(approver: Approver, purpose: str) -> dict[str, Any]:
    """The one card whose document has `purpose`, waiting for it."""
    found = wait_for(lambda: cards(approver, purpose), f"the card of {purpose!r}")
    assert len(found) == 1, [approver.text_of(m) for m in found]
    return dict(found[0])


def start(onec: RunningSandbox, initiator: str, purpose: str, **options: Any) -> dict[str, Any]:
    """An approval pending on the base's Морозов, started by the base's `initiator`."""
    return onec.client.create_approval(
        route=[onec.client.user("Морозов")["id"]],
        initiator=onec.client.user(initiator)["id"],
        fields={"СуммаДокумента": "4321.00", "НазначениеПлатежа": purpose},
        **options,
    )


def pending_task_of(onec: RunningSandbox, purpose: str) -> str:
    """The id of the pending task whose document has `purpose`."""
    return next(
        task["id"]
        for approval in onec.client.approvals()
        for task in approval["tasks"]
        if task["state"] == "pending"
        and {"name": "Назначение платежа", "value": purpose}
        in onec.client.task(task["id"])["subject"]["fields"]
    )


def state(onec: RunningSandbox, task_id: str) -> str:
    return str(onec.client.task(task_id)["state"])


def applied(onec: RunningSandbox, task_id: str) -> list[dict[str, Any]]:
    """The УХ extension's register entries of decisions applied to the task."""
    return [d for d in onec.client.audit() if d["task_id"] == task_id and d["outcome"] == "applied"]


def test_one_approver_linked_in_both_gets_cards_from_both_each_naming_its_base(
    morozov: Approver, onec: RunningSandbox, erp: RunningSandbox
) -> None:
    linked = morozov.text_of(morozov.wait_message("Подключение установлено"))
    assert onec.client.user("Морозов")["name"] in linked
    assert erp.client.user("Морозов")["name"] in linked
    assert UH_TITLE in linked and ERP_TITLE in linked

    def labelled() -> bool:
        texts = [morozov.text_of(m) for m in cards(morozov)]
        return (
            sum(t.startswith(f"{UH_TITLE} ·") for t in texts) >= 2
            and sum(t.startswith(f"{ERP_TITLE} ·") for t in texts) >= 3
        )

    wait_for(labelled, "two УХ cards and three ERP cards, each naming its base", timeout=30)
    assert ERP_TITLE in morozov.text_of(card_of(morozov, "Оплата металлопроката"))


def test_a_decision_lands_in_the_base_its_task_came_from(
    morozov: Approver, onec: RunningSandbox, erp: RunningSandbox
) -> None:
    in_uh = start(onec, "Иванов", "Аренда вагонов (УХ)")
    in_erp = start(erp, "Соколова", "Аренда вагонов (ERP)")

    card = card_of(morozov, "Аренда вагонов (ERP)")
    morozov.answer_to(morozov.press(card["message_id"], "Согласовать"))

    wait_for(lambda: state(erp, in_erp["task_id"]) == "completed", "the decision in ERP")
    wait_for(
        lambda: "✅ Согласовано" in morozov.text_of(morozov.message(card["message_id"])),
        "the final outcome on the ERP card",
        timeout=30,
    )
    card_of(morozov, "Аренда вагонов (УХ)")
    assert state(onec, in_uh["task_id"]) == "pending"
    assert applied(onec, in_uh["task_id"]) == []


def test_the_same_task_id_in_both_bases_never_collides(
    morozov: Approver, onec: RunningSandbox, erp: RunningSandbox
) -> None:
    uh_card = card_of(morozov, SHARED_TASK_PURPOSE)
    erp_card = card_of(morozov, ERP_SHARED_PURPOSE)
    task_id = pending_task_of(onec, SHARED_TASK_PURPOSE)
    assert pending_task_of(erp, ERP_SHARED_PURPOSE) == task_id  # one GUID, a task in each base

    morozov.answer_to(morozov.press(erp_card["message_id"], "Согласовать"))
    wait_for(lambda: state(erp, task_id) == "completed", "the decision in ERP")
    assert state(onec, task_id) == "pending"
    assert morozov.buttons(morozov.message(uh_card["message_id"]))  # УХ's card keeps its buttons

    morozov.answer_to(morozov.press(uh_card["message_id"], "Согласовать"))
    wait_for(lambda: state(onec, task_id) == "completed", "the decision in УХ")
    assert len(applied(onec, task_id)) == 1


def test_one_base_down_the_other_delivers_and_decides_and_the_down_ones_decision_waits(
    morozov: Approver, onec: RunningSandbox, erp: RunningSandbox
) -> None:
    in_uh = start(onec, "Иванов", "Ремонт крана (УХ)")
    uh_card = card_of(morozov, "Ремонт крана (УХ)")
    onec.client.set_fault("down")

    answer = morozov.answer_to(morozov.press(uh_card["message_id"], "Согласовать"))
    assert "Принято" in answer["text"]
    in_erp = start(erp, "Соколова", "Ремонт крана (ERP)")
    erp_card = card_of(morozov, "Ремонт крана (ERP)")  # ERP still delivers
    morozov.answer_to(morozov.press(erp_card["message_id"], "Согласовать"))
    wait_for(lambda: state(erp, in_erp["task_id"]) == "completed", "the decision in ERP")
    assert state(onec, in_uh["task_id"]) == "pending"  # УХ's decision waits in its outbox

    onec.client.clear_fault()
    wait_for(lambda: state(onec, in_uh["task_id"]) == "completed", "the УХ decision", timeout=30)
    wait_for(
        lambda: "✅ Согласовано" in morozov.text_of(morozov.message(uh_card["message_id"])),
        "the final outcome on the УХ card",
        timeout=30,
    )
    assert len(applied(onec, in_uh["task_id"])) == 1
    approval = onec.client.approvals(in_uh["document_id"])[0]
    assert [t["stage"] for t in approval["tasks"]] == [1]
