"""Linking end to end (design 6.2): a Telegram number is international and matches only itself;
one Telegram account per 1C user, the replaced one and the admins told at once."""

from __future__ import annotations

import pytest

from gateway.entrypoints.worker import Worker
from gateway.usecases.commands import create_invite
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import Approver, wait_for

pytestmark = pytest.mark.usefixtures("worker")

# A Telegram number whose digits read like a Russian local form, and the Russian card it would
# have matched under Russian rules.
FOREIGN_LOOKALIKES = [
    # Vietnam mobile +84 91…, 11 digits starting with 8: a Ryazan landline written with the 8.
    pytest.param("+84 91 234 56 78", "8 (4912) 34-56-78", id="vietnam-as-8-trunk"),
    # Myanmar mobile +95 9…, ten digits: a Russian mobile written without the country code.
    pytest.param("9591234567", "959 123-45-67", id="myanmar-as-ten-digits"),
    # Any ten-digit 9… number from a +9x country code, as Telegram gives it (no "+").
    pytest.param("9121234567", "+7 (912) 123-45-67", id="ten-digits-from-a-9x-code"),
]


def approver_with_phone(
    telegram: SandboxServer, onec: RunningSandbox, user_id: int, phone: str
) -> Approver:
    telegram.client.create_user(user_id, first_name="Гость", phone=phone)
    return Approver(telegram, onec, user_id, {"name": "", "phones": [phone]})


@pytest.mark.parametrize(("telegram_phone", "card_phone"), FOREIGN_LOOKALIKES)
def test_a_foreign_number_never_links_to_the_russian_subscriber_it_resembles(
    telegram: SandboxServer, onec: RunningSandbox, telegram_phone: str, card_phone: str
) -> None:
    onec.client.create_user("Рязанцев Пётр Ильич", [card_phone])
    stranger = approver_with_phone(telegram, onec, 7101, telegram_phone)
    stranger.telegram.client.share_contact(stranger.user_id)
    message = stranger.wait_message("не найден")
    digits = "".join(ch for ch in telegram_phone if ch.isdigit())
    assert f"+{digits}" in stranger.text_of(message)  # shown as the international number it is
    assert not any("Подключение установлено" in stranger.text_of(m) for m in stranger.messages())


@pytest.mark.parametrize("connector", ["odata"])
def test_a_foreign_number_on_a_1c_card_links_its_owner(
    telegram: SandboxServer, onec: RunningSandbox, connector: str
) -> None:
    onec.client.create_user("Нгуен Ван Ань", ["+84 91 234 56 78"])
    owner = approver_with_phone(telegram, onec, 7102, "84912345678")
    owner.connect()
    owner.wait_message("Нгуен Ван Ань")


def test_a_new_account_replaces_the_old_one_which_and_the_admins_are_told(
    make_approver, telegram: SandboxServer, worker: Worker
) -> None:
    admin: Approver = make_approver("Волков")
    admin.connect()
    admin.telegram.client.start(admin.user_id, f"admin-{create_invite(worker.ctx.invites)}")
    admin.wait_message("назначены администратором")
    old: Approver = make_approver("Морозов")
    old.connect()
    new: Approver = make_approver("Морозов")  # the same number, another Telegram account
    new.connect()

    told = old.wait_message("перенесено на другой аккаунт")
    assert "Морозов Дмитрий Олегович" in old.text_of(told)
    keyboard = telegram.client.keyboard(old.user_id)["reply_keyboard"]
    assert keyboard["keyboard"][0][0]["request_contact"] is True
    alert = admin.wait_message("подключён с другого аккаунта")
    text = admin.text_of(alert)
    assert "Морозов Дмитрий Олегович" in text
    assert str(old.user_id) in text and str(new.user_id) in text
    assert "79127008090" not in text  # the number is masked
    links = worker.ctx.links.links_for_onec_user(new.onec_user["id"])
    assert [link.telegram_user_id for link in links] == [new.user_id]


def test_the_replaced_accounts_cards_lose_their_buttons(
    make_approver, onec: RunningSandbox
) -> None:
    route = [onec.client.user("Морозов")["id"]]
    onec.client.create_approval(
        route=route,
        initiator=onec.client.user("Иванов")["id"],
        fields={"СуммаДокумента": "100.00", "НазначениеПлатежа": "Канцтовары"},
    )
    old: Approver = make_approver("Морозов")
    old.connect()
    card = old.card("Канцтовары")
    new: Approver = make_approver("Морозов")
    new.connect()
    new.card("Канцтовары")

    def stripped() -> bool:
        return old.buttons(old.message(card["message_id"])) == []

    wait_for(stripped, "the old account's card to lose its buttons")
