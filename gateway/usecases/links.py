"""Linking a Telegram user to the 1C user with the same phone, and keeping the link honest.

A Telegram contact's number is international; it matches a 1C user only if one of the user's
card phones, read by the 1C-side rules, is that very number. One Telegram account per 1C user:
a new link replaces the old one, whose owner and the admins are told at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Final, Protocol

from gateway.domain.incoming import IncomingMessage
from gateway.domain.infobases import Infobase
from gateway.domain.phones import international_phone, masked_phone, same_phone
from gateway.domain.records import UserLink
from gateway.domain.tasks import OneCUser
from gateway.errors import AuthenticationFailed, UpstreamUnavailable
from gateway.ports.messenger import ContactRequest, Messenger, RemoveKeyboard
from gateway.ports.onec import TaskSource
from gateway.ports.storage import Coordination, LinkStore
from gateway.presentation.cards import base_title
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


class Found(Enum):
    """How a shared phone matched the users of one base's 1C."""

    ONE = "one"  # exactly one valid user, allowed to connect: linkable
    NONE = "none"
    SEVERAL = "several"
    NOT_IN_GROUP = "not_in_group"  # one user, outside ONEC_USERS_GROUP


@dataclass(frozen=True, slots=True)
class Match:
    """What one base's 1C answered for a phone: the user to link, or why there is none."""

    found: Found
    user: OneCUser | None = None
    count: int = 0  # users with the phone, for SEVERAL
    group: str = ""  # the base's ONEC_USERS_GROUP, for NOT_IN_GROUP


def on_contact(ctx: ConnectPorts, message: IncomingMessage) -> UserLink | None:
    """A shared contact: link its phone's 1C user if the contact is the sender's own."""
    phone = own_phone(ctx, message)
    if phone is None:
        return None
    match = match_phone(ctx, phone)
    if match.user is None or match.found is not Found.ONE:
        refuse(ctx, message.chat_id, phone, match)
        return None
    return link_user(ctx, message, phone, match.user)


def own_phone(ctx: ReplyPorts, message: IncomingMessage) -> str | None:
    """The shared contact's international number, if the contact is the sender's own and the
    number long enough to be one; else the user is asked again and None returned."""
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
    return phone


def match_phone(ctx: ConnectPorts, phone: str) -> Match:
    """Which of this base's 1C users the phone links to, telling nobody (several bases answer
    the same contact in one message)."""
    users = users_with_phone(ctx, phone)
    if not users:
        return Match(Found.NONE)
    if len(users) > 1:
        return Match(Found.SEVERAL, count=len(users))
    user = users[0]
    if not may_connect(ctx, user.id):
        log.info("1C user %s is not in group %r; not linked", user.id, ctx.users_group)
        return Match(Found.NOT_IN_GROUP, user, group=ctx.users_group)
    return Match(Found.ONE, user)


def refuse(ctx: ReplyPorts, chat_id: int, phone: str, match: Match) -> None:
    """Tell a single base's user why their phone links to nobody, and ask again."""
    if match.found is Found.SEVERAL:
        ask_for_contact(ctx, chat_id, "contact.ambiguous", phone=phone, count=match.count)
    elif match.found is Found.NOT_IN_GROUP and match.user is not None:
        ask_for_contact(
            ctx,
            chat_id,
            "contact.not_in_group",
            name=escape(match.user.name),
            group=escape(match.group),
        )
    else:
        ask_for_contact(ctx, chat_id, "contact.unknown", phone=phone)


def link_user(ctx: ConnectPorts, message: IncomingMessage, phone: str, user: OneCUser) -> UserLink:
    """Link the sender to `user`; an account that had this 1C user loses it and is told."""
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


@dataclass(frozen=True, slots=True)
class BaseLink:
    """The user's link in one of several bases, with the count of their pending tasks there
    (None when that base's 1C could not say)."""

    base: Infobase
    link: UserLink
    pending: int | None


@dataclass(frozen=True, slots=True)
class BaseRefusal:
    """A base where the shared phone linked nobody: why (None: its 1C was unreachable)."""

    base: Infobase
    match: Match | None


def confirm_bases(
    ctx: ReplyPorts,
    chat_id: int,
    phone: str,
    linked: Sequence[BaseLink],
    refused: Sequence[BaseRefusal],
) -> None:
    """One answer to a contact shared with a gateway of several bases: «Подключение
    установлено» listing the bases linked, then each base where the user was not linked, with
    what to ask that base's administrator. The contact button stays while a base is missing,
    so the user can share the number again once 1C is fixed."""
    texts = ctx.texts
    missing = "\n".join(_refusal_line(texts, phone, refusal) for refusal in refused)
    if not linked:
        ctx.messenger.send_text(
            chat_id,
            texts.t("contact.none_linked", phone=phone, bases=missing),
            ContactRequest(texts.t("btn.share_phone")),
        )
        return
    lines = [
        texts.t(
            "contact.linked_base",
            base=base_title(item.base),
            name=escape(item.link.onec_user_name),
            count="—" if item.pending is None else item.pending,
        )
        for item in linked
    ]
    text = texts.t("contact.linked_bases", bases="\n".join(lines))
    if refused:
        text += "\n\n" + texts.t("contact.missing_bases", bases=missing)
        ctx.messenger.send_text(chat_id, text, ContactRequest(texts.t("btn.share_phone")))
    else:
        ctx.messenger.send_text(chat_id, text, RemoveKeyboard())


def _refusal_line(texts: Texts, phone: str, refusal: BaseRefusal) -> str:
    base = base_title(refusal.base)
    match = refusal.match
    if match is None:
        return texts.t("contact.base.unavailable", base=base)
    if match.found is Found.SEVERAL:
        return texts.t("contact.base.ambiguous", base=base, count=match.count)
    if match.found is Found.NOT_IN_GROUP and match.user is not None:
        name, group = escape(match.user.name), escape(match.group)
        return texts.t("contact.base.not_in_group", base=base, name=name, group=group)
    return texts.t("contact.base.unknown", base=base, phone=phone)
