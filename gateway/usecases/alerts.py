"""Who the gateway's admins are, and alerts sent to all of them."""

from __future__ import annotations

import logging
from typing import Protocol

from gateway.domain.infobases import Infobase
from gateway.domain.records import UserLink
from gateway.errors import GatewayError
from gateway.ports.messenger import Messenger
from gateway.ports.storage import AdminGroupStore, LinkStore
from gateway.presentation.cards import in_base
from gateway.presentation.texts import Texts

log = logging.getLogger(__name__)


class AdminPorts(Protocol):
    """What telling an admin apart needs."""

    admins: AdminGroupStore
    admins_group: str  # ONEC_ADMINS_GROUP: its members are admins without an invite


class AlertPorts(AdminPorts, Protocol):
    """What alerting the admins needs."""

    links: LinkStore
    messenger: Messenger
    texts: Texts
    base: Infobase  # a named base's alerts say which base they are about


def is_admin(ctx: AdminPorts, link: UserLink, group_admins: frozenset[str] | None = None) -> bool:
    """True for an invited admin, or a member of ONEC_ADMINS_GROUP as last read from 1C."""
    if link.is_admin:
        return True
    if not ctx.admins_group:
        return False
    members = ctx.admins.group_admins() if group_admins is None else group_admins
    return link.onec_user_id in members


def alert_admins(ctx: AlertPorts, html: str) -> None:
    """Send `html` to every admin of this base (headed by its title when the gateway serves
    several); an admin who cannot be reached is skipped."""
    html = in_base(ctx.base, ctx.texts, html)
    group_admins = ctx.admins.group_admins() if ctx.admins_group else frozenset()
    for link in ctx.links.all_links():
        if not is_admin(ctx, link, group_admins):
            continue
        try:
            ctx.messenger.send_text(link.chat_id, html)
        except GatewayError as exc:
            log.warning("admin alert to chat %s failed: %s", link.chat_id, exc)
