"""Linking a Telegram user to the 1C user with the same phone, and keeping the link honest.

A Telegram contact's number is international; it matches a 1C user only if one of the user's
card phones, read by the 1C-side rules, is that very number. One Telegram account per 1C user:
a new link replaces the old one, whose owner and the admins are told at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Final, Protocol

from gateway.domain.incoming import IncomingMessage
from gateway.domain.phones import international_phone, masked_phone, same_phone
from gateway.domain.records import UserLink
from gateway.domain.tasks import OneCUser
from gateway.errors import AuthenticationFailed, UpstreamUnavailable
from gateway.ports.messenger import ContactRequest, Messenger, RemoveKeyboard
from gateway.ports.onec import TaskSource
from gateway.ports.storage import Coordination, LinkStore
from gateway.presentation.texts import Texts, escape
from gateway.usecases.alerts import AlertPorts, alert_admins
from gateway.usecases.groups import MembershipPorts, may_connect

log = logging.getLogger(__name__)

MIN_PHONE_DIGITS: Final = 10


class ReplyPorts(Protocol):
    """What answering a user in their chat needs."""

    messenger: Messenger
    texts: Texts


class LinkPorts(ReplyPorts, Protocol):
    """What checking a link against 1C (and dropping one that no longer holds) needs."""

    links: LinkStore

    # Read-only, so a context holding a whole 1C connector (OneC) satisfies it too.
    @property
    def onec(self) -> TaskSource:
        """1C, asked which users have a phone."""
        ...


class ConnectPorts(AlertPorts, MembershipPorts, LinkPorts, Protocol):
    """What linking a shared contact needs: a displaced link's owner and the admins are told,
    and the sync leader asked to take the buttons off its cards."""

    coordination: Coordination

    # A function as a dataclass field's default reads as a method: only a property matches it.
    @property
    def now(self) -> Callable[[], datetime]:
        """The clock a link's time is read from."""
        ...


def ask_for_contact(ctx: ReplyPorts, chat_id: int, key: str = "welcome", **values: object) -> None:
    """Explain and show the reply keyboard button that shares the user's own number."""
    ctx.messenger.send_text(
        chat_id, ctx.texts.t(key, **values), ContactRequest(ctx.texts.t("btn.share_phone"))
    )


def on_contact(ctx: ConnectPorts, message: IncomingMessage) -> UserLink | None:
    """A shared contact: link its phone's 1C user if the contact is the sender's own."""
    contact = message.contact
    assert contact is not None
    if contact.user_id != message.user_id:
        log.warning("user %s shared someone else's contact", message.user_id)
        ask_for_contact(ctx, message.chat_id, "contact.foreign")
        return None
    phone = international_phone(contact.phone)
    if len(phone) < MIN_PHONE_DIGITS:
        ask_for_contact(ctx, message.chat_id, "contact.unknown", phone=escape(phone))
        return None
    users = users_with_phone(ctx, phone)
    if not users:
        ask_for_contact(ctx, message.chat_id, "contact.unknown", phone=phone)
        return None
    if len(users) > 1:
        ask_for_contact(ctx, message.chat_id, "contact.ambiguous", phone=phone, count=len(users))
        return None
    user = users[0]
    if not may_connect(ctx, user.id):
        log.info("1C user %s is not in group %r; not linked", user.id, ctx.users_group)
        ask_for_contact(
            ctx,
            message.chat_id,
            "contact.not_in_group",
            name=escape(user.name),
            group=escape(ctx.users_group),
        )
        return None
    previous = ctx.links.get_link(message.user_id)
    displaced = [
        other
        for other in ctx.links.links_for_onec_user(user.id)
        if other.telegram_user_id != message.user_id
    ]
    link = UserLink(
        telegram_user_id=message.user_id,
        chat_id=message.chat_id,
        onec_user_id=user.id,
        onec_user_name=user.name,
        phone=phone,
        linked_at=ctx.now(),
        is_admin=bool(previous and previous.is_admin and previous.onec_user_id == user.id),
    )
    ctx.links.save_link(link)
    log.info("Telegram user %s linked to 1C user %s", message.user_id, user.id)
    for other in displaced:
        _replaced(ctx, other, link)
    return link


def users_with_phone(ctx: LinkPorts, phone: str) -> list[OneCUser]:
    """Valid 1C users with exactly this international number on their card.

    The connector is asked with a leading "+" (the number is international), and what it
    answers is checked again here: a 1C side that read the query by Russian local rules must
    not hand a foreign number a Russian subscriber's account.
    """
    found = ctx.onec.find_users_by_phone("+" + phone)
    return [user for user in found if same_phone(phone, user.phones)]


def _replaced(ctx: ConnectPorts, old: UserLink, new: UserLink) -> None:
    """`old` lost its 1C user to `new` (saving `new` unlinked it): told at once, admins
    alerted; the next pass takes the buttons off its cards (they are no longer its 1C user's)."""
    log.warning(
        "1C user %s moved from Telegram user %s to %s",
        new.onec_user_id,
        old.telegram_user_id,
        new.telegram_user_id,
    )
    ask_for_contact(ctx, old.chat_id, "link.replaced", name=escape(new.onec_user_name))
    alert_admins(
        ctx,
        ctx.texts.t(
            "admin.link_replaced",
            name=escape(new.onec_user_name),
            old=old.telegram_user_id,
            new=new.telegram_user_id,
            phone=masked_phone(new.phone),
        ),
    )
    ctx.coordination.request_sync([])


def current_link(ctx: LinkPorts, telegram_user_id: int) -> UserLink | None:
    """The user's link if their phone still points at the same valid 1C user.

    When 1C no longer has that phone on that user (changed, or the user made invalid), the
    link is dropped and the user asked to share the number again. With 1C unreachable the link
    stands: an outage must not disconnect anyone.
    """
    link = ctx.links.get_link(telegram_user_id)
    if link is None:
        return None
    try:
        users = users_with_phone(ctx, link.phone)
    except (UpstreamUnavailable, AuthenticationFailed):
        return link
    match = next((u for u in users if u.id == link.onec_user_id), None)
    if match is None or len(users) > 1:
        unlink(ctx, link)
        return None
    if match.name != link.onec_user_name:
        link = replace(link, onec_user_name=match.name)
        ctx.links.save_link(link)
    return link


def unlink(ctx: LinkPorts, link: UserLink) -> None:
    """Drop the link and ask the user to share their number again."""
    ctx.links.delete_link(link.telegram_user_id)
    log.info("Telegram user %s unlinked: phone no longer matches in 1C", link.telegram_user_id)
    ask_for_contact(
        ctx, link.chat_id, "link.lost", phone=link.phone, name=escape(link.onec_user_name)
    )


def check_all_links(ctx: LinkPorts) -> int:
    """Verify every link against 1C (periodically); returns how many were dropped."""
    dropped = 0
    for link in ctx.links.all_links():
        if current_link(ctx, link.telegram_user_id) is None:
            dropped += 1
    return dropped


def confirm(ctx: ReplyPorts, link: UserLink, pending: int) -> None:
    """«Подключение установлено: …» with the count of pending tasks; the contact button goes."""
    ctx.messenger.send_text(
        link.chat_id,
        ctx.texts.t("contact.linked", name=escape(link.onec_user_name), count=pending),
        RemoveKeyboard(),
    )
