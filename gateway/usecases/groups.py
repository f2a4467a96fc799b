"""Who may connect and who is admin, from 1C's users groups (ONEC_USERS_GROUP, ONEC_ADMINS_GROUP).

The sync pass reads each configured group once: a linked user no longer in the users group is
unlinked, told why, and their cards lose their buttons; the admins group's members are stored
for every process to see (invited admins keep their rights whatever the group says).
"""

from __future__ import annotations

import logging
from typing import Protocol

from gateway.domain.infobases import Infobase
from gateway.domain.records import UserLink
from gateway.errors import NotFound, RecipientBlocked
from gateway.ports.messenger import ContactRequest
from gateway.ports.onec import TaskSource
from gateway.ports.storage import AdminGroupStore, LinkStore
from gateway.presentation.cards import in_base
from gateway.presentation.texts import Texts, escape
from gateway.usecases import cards_io
from gateway.usecases.cards_io import EditPorts

log = logging.getLogger(__name__)


class MembershipPorts(Protocol):
    """What asking 1C whether a user is in the users group needs."""

    users_group: str  # ONEC_USERS_GROUP

    # Read-only, so a context holding a whole 1C connector (OneC) satisfies it too.
    @property
    def onec(self) -> TaskSource:
        """1C, asked for a group's members."""
        ...


class GroupPorts(MembershipPorts, EditPorts, Protocol):
    """What applying both groups to the links needs."""

    admins: AdminGroupStore
    admins_group: str  # ONEC_ADMINS_GROUP
    links: LinkStore
    texts: Texts
    base: Infobase  # a named base's disconnection notice names it


def may_connect(ctx: MembershipPorts, onec_user_id: str) -> bool:
    """True if this 1C user may link a Telegram account (always, without ONEC_USERS_GROUP)."""
    if not ctx.users_group:
        return True
    try:
        return onec_user_id in ctx.onec.group_members(ctx.users_group)
    except NotFound:
        log.error(
            "1C has no users group %r (ONEC_USERS_GROUP): nobody may connect", ctx.users_group
        )
        return False


def check_groups(ctx: GroupPorts, links: list[UserLink], tracked: set[str]) -> list[UserLink]:
    """Apply both groups to the `links` of this pass; returns the links that remain.

    One read per configured group. An empty or missing users group unlinks nobody: that is far
    more likely a misspelt ONEC_USERS_GROUP than an order to disconnect everyone.
    """
    if ctx.admins_group:
        ctx.admins.save_group_admins(_members(ctx, ctx.admins_group, "ONEC_ADMINS_GROUP"))
    if not ctx.users_group or not links:
        return links
    members = _members(ctx, ctx.users_group, "ONEC_USERS_GROUP")
    if not members:
        log.error(
            "1C users group %r has no members (or none such); nobody unlinked", ctx.users_group
        )
        return links
    kept = []
    for link in links:
        if link.onec_user_id in members:
            kept.append(link)
        else:
            unlink_outside_group(ctx, link, tracked)
    return kept


def _members(ctx: MembershipPorts, group: str, setting: str) -> frozenset[str]:
    """The group's members; none (logged) when 1C has no such group."""
    try:
        return ctx.onec.group_members(group)
    except NotFound:
        log.error("1C has no users group %r (%s)", group, setting)
        return frozenset()


def unlink_outside_group(ctx: GroupPorts, link: UserLink, tracked: set[str]) -> None:
    """Drop the link of a user no longer in the users group: their cards lose their buttons,
    and they are told what to ask the 1C administrator."""
    ctx.links.delete_link(link.telegram_user_id)
    log.info(
        "Telegram user %s unlinked: 1C user %s left group %r",
        link.telegram_user_id,
        link.onec_user_id,
        ctx.users_group,
    )
    try:
        for task_id in sorted(tracked):
            delivery = ctx.deliveries.get_delivery(task_id, link.chat_id)
            if delivery is not None:
                cards_io.close(ctx, delivery, [ctx.texts.t("outcome.unlinked")])
        texts = ctx.texts
        notice = texts.t(
            "link.left_group", name=escape(link.onec_user_name), group=escape(ctx.users_group)
        )
        ctx.messenger.send_text(
            link.chat_id,
            in_base(ctx.base, texts, notice),
            ContactRequest(texts.t("btn.share_phone")),
        )
    except (RecipientBlocked, NotFound) as exc:
        log.warning("could not tell user %s they were unlinked: %s", link.chat_id, exc)
