"""The core's Store port on Redis: user links and message↔task mappings.

Key layout (every key starts with the prefix; a message is always chat id + message id):
  link:tg:<telegram user id>      hash   one UserLink
  link:onec:<1C user id>          set    the telegram user id linked to that 1C user (one)
  msg:<chat id>:<message id>      string the task id the message shows
  task:msgs:<task id>             set    "<chat id>:<message id>" of every message showing it
"""

from __future__ import annotations

from datetime import datetime

import redis
from redis.typing import EncodableT, FieldT

from adapters.redis_store.connection import PrefixedRedis, translated_errors
from adapters.redis_store.coordination import Coordination
from adapters.redis_store.flow import FlowState
from adapters.redis_store.outbox import Outbox
from gateway.domain.records import MessageRef, UserLink


class RedisStore(PrefixedRedis, FlowState, Outbox, Coordination):
    """Store port on one Redis database; `prefix` namespaces every key."""

    def key(self, *parts: object) -> str:
        """The full key for `parts`, joined by ':' after the prefix."""
        return self._prefix + ":".join(str(p) for p in parts)

    # --- user links ---------------------------------------------------------------------------

    def save_link(self, link: UserLink) -> None:
        """Store `link`, replacing any earlier link of the same Telegram user, and any other
        Telegram user's link to the same 1C user (one account per 1C user), in one step."""
        previous = self.get_link(link.telegram_user_id)
        fields: dict[FieldT, EncodableT] = {key: value for key, value in link.as_dict().items()}
        fields["is_admin"] = int(link.is_admin)  # Redis keeps no booleans
        tg_key = self.key("link", "tg", link.telegram_user_id)
        onec_key = self.key("link", "onec", link.onec_user_id)

        def replace_links(pipe: redis.client.Pipeline) -> None:
            others = [int(m) for m in pipe.smembers(onec_key) if int(m) != link.telegram_user_id]
            pipe.multi()
            if previous and previous.onec_user_id != link.onec_user_id:
                pipe.srem(self.key("link", "onec", previous.onec_user_id), link.telegram_user_id)
            for other in others:
                pipe.delete(self.key("link", "tg", other))
            pipe.delete(tg_key, onec_key)
            pipe.hset(tg_key, mapping=fields)
            pipe.sadd(onec_key, link.telegram_user_id)

        with translated_errors():
            self._redis.transaction(replace_links, onec_key)

    def get_link(self, telegram_user_id: int) -> UserLink | None:
        """The link of this Telegram user, or None if not linked."""
        with translated_errors():
            raw = self._redis.hgetall(self.key("link", "tg", telegram_user_id))
        if not raw:
            return None
        fields = {str(k): str(v) for k, v in raw.items()}
        return UserLink(
            telegram_user_id=int(fields["telegram_user_id"]),
            chat_id=int(fields["chat_id"]),
            onec_user_id=fields["onec_user_id"],
            onec_user_name=fields["onec_user_name"],
            phone=fields["phone"],
            linked_at=datetime.fromisoformat(fields["linked_at"]),
            is_admin=fields.get("is_admin") == "1",
        )

    def links_for_onec_user(self, onec_user_id: str) -> list[UserLink]:
        """The Telegram user linked to this 1C user, as a list (empty, or one: save_link keeps
        it so; links made before it did may still hold more, until the next link)."""
        with translated_errors():
            members = self._redis.smembers(self.key("link", "onec", onec_user_id))
        links = [self.get_link(int(m)) for m in sorted(int(m) for m in members)]
        return [link for link in links if link and link.onec_user_id == onec_user_id]

    def all_links(self) -> list[UserLink]:
        """Every linked Telegram user."""
        with translated_errors():
            keys = list(self._redis.scan_iter(match=self.key("link", "tg", "*"), count=500))
        prefix = self.key("link", "tg", "")
        links = (self.get_link(int(str(k).removeprefix(prefix))) for k in keys)
        return sorted((link for link in links if link), key=lambda x: x.telegram_user_id)

    def delete_link(self, telegram_user_id: int) -> None:
        """Unlink this Telegram user (no error if it was not linked)."""
        link = self.get_link(telegram_user_id)
        if link is None:
            return
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self.key("link", "tg", telegram_user_id))
            pipe.srem(self.key("link", "onec", link.onec_user_id), telegram_user_id)
            pipe.execute()

    # --- messages -----------------------------------------------------------------------------

    def remember_message(self, ref: MessageRef, task_id: str) -> None:
        """Record that the message `ref` shows task `task_id`."""
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(self.key("msg", ref.chat_id, ref.message_id), task_id)
            pipe.sadd(self.key("task", "msgs", task_id), ref.key)
            pipe.execute()

    def task_for_message(self, ref: MessageRef) -> str | None:
        """The task shown by message `ref`, if the gateway sent it."""
        with translated_errors():
            value = self._redis.get(self.key("msg", ref.chat_id, ref.message_id))
        return None if value is None else str(value)

    def messages_for_task(self, task_id: str) -> list[MessageRef]:
        """Every message the gateway sent for this task, in chat/message order."""
        with translated_errors():
            members = self._redis.smembers(self.key("task", "msgs", task_id))
        refs = []
        for member in members:
            chat_id, _, message_id = str(member).rpartition(":")
            refs.append(MessageRef(int(chat_id), int(message_id)))
        return sorted(refs, key=lambda r: (r.chat_id, r.message_id))
