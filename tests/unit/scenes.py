"""An approval scene on the shared fakes, where the press and outbox tables start: a pending
task, its approvers linked and holding cards, 1C and Telegram faked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from gateway.domain.incoming import IncomingPress
from gateway.domain.records import UserLink
from gateway.domain.tasks import Decision, Task
from gateway.presentation import callbacks
from gateway.presentation.texts import Texts
from gateway.usecases.context import FlowContext
from tests.factories import make_delivery, make_press
from tests.fakes import SECRET, FakeMessenger, FakeOneC, InMemoryStore, make_context

CHAT: Final = 200
CARD: Final = 41
TEXTS: Final = Texts("ru")


@dataclass
class Scene:
    """`link` (chat CHAT) holds card CARD of `task`; the context runs on the fakes below."""

    ctx: FlowContext
    store: InMemoryStore
    onec: FakeOneC
    messenger: FakeMessenger
    link: UserLink
    task: Task  # as the cards show it; 1C may have changed it since (`changed`)
    woken: list[str]  # each time the outbox loop was woken

    def press(
        self, decision: Decision = Decision.APPROVE, *, version: str | None = None
    ) -> IncomingPress:
        """A press on CARD of a button signed for CHAT, showing `version` (the card's)."""
        shown = self.task.version if version is None else version
        data = callbacks.sign(SECRET, CHAT, decision, self.task.id, shown)
        return make_press(data, chat_id=CHAT, message_id=CARD)

    def changed(self, **changes: Any) -> Task:
        """1C's task changes; the cards still show `task`. Returns the task as 1C has it."""
        current = replace(self.task, **changes)
        self.onec.add(current)
        return current

    @property
    def current(self) -> Task:
        """The task as 1C has it now."""
        return self.onec.tasks[self.task.id]


def make_scene(
    task: Task,
    holders: Sequence[tuple[UserLink, int | None]],
    store: InMemoryStore | None = None,
    **context: Any,
) -> Scene:
    """Each holder linked (1C has its user and phone) with a card of `task` at the given
    message id (None: no card); the first holder is the one who presses. `context` overrides
    FlowContext fields."""
    store = InMemoryStore() if store is None else store
    onec = FakeOneC([task])
    woken: list[str] = []
    for link, card in holders:
        onec.add_users_of(link)
        store.save_link(link)
        if card is not None:
            store.save_delivery(make_delivery(task, link.chat_id, card))
    context.setdefault("wake_outbox", lambda: woken.append("outbox"))
    ctx = make_context(store, onec=onec, **context)
    assert isinstance(ctx.messenger, FakeMessenger)
    return Scene(ctx, store, onec, ctx.messenger, holders[0][0], task, woken)
