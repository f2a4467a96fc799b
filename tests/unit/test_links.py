"""Linking by a shared contact (design 6.2, issue 17), with the shared fakes of the ports.

The 1C fake here reads the number it is asked for by Russian local rules, as an extension
older than issue 17 did: the gateway must still refuse a foreign number its lookalike's account.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.domain.incoming import Contact, IncomingMessage
from gateway.domain.phones import normalize_phone
from gateway.domain.records import UserLink
from gateway.domain.tasks import OneCUser
from gateway.usecases.context import FlowContext
from gateway.usecases.links import on_contact
from tests.fakes import FakeMessenger, FakeOneC, InMemoryStore, make_context

MSK = timezone(timedelta(hours=3))
RYAZAN = OneCUser("onec-ryazan", "Рязанцев Пётр Ильич", ("74912345678",))


class LooseOneC(FakeOneC):
    """Answers users whose card phone equals the query read as a Russian local number."""

    def find_users_by_phone(self, phone: str) -> list[OneCUser]:
        self.phone_queries.append(phone)
        digits = "".join(ch for ch in phone if ch.isdigit())
        loose = normalize_phone(digits)  # no "+": Russian rules, as the old extension did
        return [u for u in self.users if loose in u.phones]


def context(onec: LooseOneC, store: InMemoryStore, messenger: FakeMessenger) -> FlowContext:
    return make_context(
        store, onec=onec, messenger=messenger, now=lambda: datetime(2026, 12, 5, 10, 0, tzinfo=MSK)
    )


def contact(user_id: int, phone: str) -> IncomingMessage:
    return IncomingMessage(
        update_id=1, chat_id=user_id, user_id=user_id, message_id=1,
        contact=Contact(phone, user_id),
    )  # fmt: skip


@pytest.mark.parametrize("foreign", ["84912345678", "+84 91 234 56 78", "4912345678"])
def test_a_1c_side_reading_the_query_loosely_cannot_hand_over_an_account(foreign: str) -> None:
    onec, store, messenger = LooseOneC(users=[RYAZAN]), InMemoryStore(), FakeMessenger()
    assert on_contact(context(onec, store, messenger), contact(501, foreign)) is None
    assert store.all_links() == []
    assert onec.phone_queries == ["+" + "".join(ch for ch in foreign if ch.isdigit())]
    assert "не найден" in messenger.to(501)[-1]


def test_the_very_same_international_number_links() -> None:
    onec, store, messenger = LooseOneC(users=[RYAZAN]), InMemoryStore(), FakeMessenger()
    link = on_contact(context(onec, store, messenger), contact(501, "+7 4912 34-56-78"))
    assert link is not None and link.onec_user_id == RYAZAN.id and link.phone == "74912345678"


def test_a_new_account_replaces_the_old_one_and_the_admins_hear_of_it() -> None:
    onec, store, messenger = LooseOneC(users=[RYAZAN]), InMemoryStore(), FakeMessenger()
    admin = UserLink(900, 900, "onec-admin", "Админ", "79000000000", datetime.now(MSK), True)
    store.save_link(admin)
    ctx = context(onec, store, messenger)
    on_contact(ctx, contact(501, "74912345678"))
    on_contact(ctx, contact(502, "74912345678"))

    assert [link.telegram_user_id for link in store.links_for_onec_user(RYAZAN.id)] == [502]
    assert "перенесено на другой аккаунт" in messenger.to(501)[-1]
    (alert,) = [text for text in messenger.to(900) if "другого аккаунта" in text]
    assert "Рязанцев Пётр Ильич" in alert and "501" in alert and "502" in alert
    assert "74912345678" not in alert and "+7••••••••78" in alert
    assert store.wait_sync_request(0) == ["*"]  # a full pass takes the buttons off the old cards


def test_sharing_the_contact_again_from_the_same_account_alerts_nobody() -> None:
    onec, store, messenger = LooseOneC(users=[RYAZAN]), InMemoryStore(), FakeMessenger()
    ctx = context(onec, store, messenger)
    on_contact(ctx, contact(501, "74912345678"))
    on_contact(ctx, contact(501, "74912345678"))
    assert not any("перенесено" in text for text in messenger.to(501))
    assert store.wait_sync_request(0) is None
