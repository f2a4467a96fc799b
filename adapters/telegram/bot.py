"""The Messenger port on python-telegram-bot, usable from synchronous code.

PTB is asyncio; the rest of the gateway (Flask, requests, zeep, redis-py) is synchronous. The
TelegramBot owns one event loop on its own thread, and the one PTB `Bot` lives on that loop
only: callers on any thread submit coroutines to it and wait for the result. A Bot is never
shared across event loops, and the core never sees asyncio (docs/concurrency.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, Final, TypeVar

from telegram import Bot, BotCommand, InputFile, LinkPreviewOptions, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.request import HTTPXRequest

from adapters.telegram.convert import incoming, reply_markup
from adapters.telegram.errors import NOT_MODIFIED, translated
from gateway.domain.incoming import Incoming
from gateway.domain.records import MessageRef
from gateway.errors import InvalidRequest, Upstream, UpstreamUnavailable
from gateway.ports.messenger import Attachment, Keyboard, Markup, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS: Final = 10.0
READ_TIMEOUT_SECONDS: Final = 30.0
# Callers at once: 8 update lanes, 6 senders, the outbox and reminder threads, the long poll.
POOL_SIZE: Final = 32
GET_ME_CACHE_SECONDS: Final = 60.0
CALL_SLACK_SECONDS: Final = 15.0  # on top of the HTTP timeouts, before a caller gives up
ALLOWED_UPDATES: Final = ["message", "callback_query"]


class TelegramBot:
    """Bot API client for synchronous callers; `close()` when done."""

    def __init__(
        self, token: str, api_url: str = "https://api.telegram.org", proxy: str = ""
    ) -> None:
        # PTB 22 warns (DeprecationWarning) when building RetryAfter unless told to use timedelta.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        self._token = token
        self._api_url = api_url.rstrip("/")
        # TELEGRAM_PROXY_URL: http(s):// or socks5:// (httpx through socksio) for every call.
        self._proxy = proxy or None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="telegram", daemon=True)
        self._thread.start()
        self._bot: Bot | None = None
        self._init_lock = threading.Lock()
        self._me: tuple[float, str] | None = None

    def __repr__(self) -> str:
        return f"TelegramBot(api_url={self._api_url!r}, token=<hidden>)"

    # --- plumbing ------------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = READ_TIMEOUT_SECONDS) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout + CALL_SLACK_SECONDS)
        except TimeoutError as exc:
            future.cancel()
            raise UpstreamUnavailable(Upstream.TELEGRAM, "no answer in time") from exc

    def _get_bot(self) -> Bot:
        with self._init_lock:
            if self._bot is None:
                bot = Bot(
                    self._token,
                    base_url=f"{self._api_url}/bot",
                    base_file_url=f"{self._api_url}/file/bot",
                    request=HTTPXRequest(
                        connection_pool_size=POOL_SIZE,
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        read_timeout=READ_TIMEOUT_SECONDS,
                        write_timeout=READ_TIMEOUT_SECONDS,
                        pool_timeout=READ_TIMEOUT_SECONDS,
                        proxy=self._proxy,
                    ),
                    get_updates_request=HTTPXRequest(
                        connection_pool_size=1,
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        proxy=self._proxy,
                    ),
                )

                async def start() -> None:
                    with translated():
                        await bot.initialize()

                self._run(start())
                self._bot = bot
            return self._bot

    def _call(self, coro_factory: Any, timeout: float = READ_TIMEOUT_SECONDS) -> Any:
        bot = self._get_bot()

        async def call() -> Any:
            with translated():
                return await coro_factory(bot)

        return self._run(call(), timeout)

    def close(self) -> None:
        """Shut the Bot's HTTP clients and stop the loop."""
        if self._bot is not None:
            bot = self._bot

            async def stop() -> None:
                await bot.shutdown()

            try:
                self._run(stop(), 10)
            except Exception as exc:  # closing must not fail shutdown
                log.debug("bot shutdown: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # --- the port ------------------------------------------------------------------------------

    def ping(self) -> None:
        """getMe, cached briefly so readiness checks stay cheap."""
        self.username()

    def username(self) -> str:
        """The bot's @username (for deep links)."""
        now = time.monotonic()
        if self._me is None or now - self._me[0] > GET_ME_CACHE_SECONDS:
            me = self._call(lambda bot: bot.get_me())
            self._me = (now, str(me.username))
        return self._me[1]

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent:
        """sendMessage with HTML, no link previews."""
        message = self._call(
            lambda bot: bot.send_message(
                chat_id,
                html,
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup(markup),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to
                else None,
            )
        )
        return Sent(MessageRef(message.chat.id, message.message_id))

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent:
        """sendDocument: a first upload of the bytes, or an earlier upload's file id."""
        payload: InputFile | str
        if document.file_id:
            payload = document.file_id
        elif document.content is not None:
            payload = InputFile(document.content, filename=document.filename)
        else:
            raise InvalidRequest(Upstream.TELEGRAM, "no_document", "neither bytes nor a file id")
        message = self._call(
            lambda bot: bot.send_document(
                chat_id,
                payload,
                caption=caption_html,
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup(markup),
            ),
            timeout=READ_TIMEOUT_SECONDS * 2,
        )
        file_id = message.document.file_id if message.document else None
        return Sent(MessageRef(message.chat.id, message.message_id), file_id)

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """editMessageCaption or editMessageText; no keyboard given removes the buttons."""
        markup = reply_markup(keyboard) if keyboard else None
        try:
            if is_caption:
                self._call(
                    lambda bot: bot.edit_message_caption(
                        chat_id=ref.chat_id,
                        message_id=ref.message_id,
                        caption=html,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
                )
            else:
                self._call(
                    lambda bot: bot.edit_message_text(
                        html,
                        chat_id=ref.chat_id,
                        message_id=ref.message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
                )
        except InvalidRequest as exc:
            if NOT_MODIFIED not in exc.message.lower():
                raise

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        """answerCallbackQuery; a query already answered or too old is not an error."""
        try:
            self._call(
                lambda bot: bot.answer_callback_query(
                    callback_id, text=text or None, show_alert=alert
                )
            )
        except InvalidRequest as exc:
            log.info("callback %s not answered: %s", callback_id, exc.message)

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """setMyCommands."""
        self._call(lambda bot: bot.set_my_commands([BotCommand(c, d) for c, d in commands]))

    # --- updates -------------------------------------------------------------------------------

    def fetch_updates(self, offset: int | None, timeout: int) -> list[tuple[int, str]]:
        """Long-poll updates after `offset`, each as (update id, its JSON).

        Passing the next offset confirms everything before it, so callers pass it only after
        they have stored the batch durably.
        """
        updates: tuple[Update, ...] = self._call(
            lambda bot: bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=ALLOWED_UPDATES,
                read_timeout=timeout + READ_TIMEOUT_SECONDS,
            ),
            timeout=timeout + READ_TIMEOUT_SECONDS,
        )
        return [(u.update_id, u.to_json()) for u in updates]

    def parse_update(self, payload: str) -> Incoming | None:
        """An update's JSON (from a webhook or a poll) as the core event it carries, if any."""
        try:
            data = json.loads(payload)
            update = Update.de_json(data, self._get_bot())
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("unreadable update skipped: %s", exc)
            return None
        return incoming(update)

    def delete_webhook(self) -> None:
        """deleteWebhook (polling needs none set)."""
        self._call(lambda bot: bot.delete_webhook())

    def set_webhook(self, url: str, secret: str) -> None:
        """setWebhook with the secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token."""
        self._call(
            lambda bot: bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        )
