"""A whole python-telegram-bot Application (long polling, handlers) runs against the sandbox."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Согласовать", callback_data="ok")]])
    assert update.effective_message is not None and context.args
    await update.effective_message.reply_html(
        f"<b>Привет</b>, {context.args[0]}", reply_markup=keyboard
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Готово")
    await query.edit_message_text("Согласовано")


async def wait_for(condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def test_a_polling_application_handles_a_command_and_a_press(sandbox, user, control):
    application = (
        Application.builder()
        .token(sandbox.token)
        .base_url(sandbox.api_url)
        .base_file_url(sandbox.file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))

    def bot_said(text: str) -> bool:
        return any(m.get("text") == text for m in control.messages(user["id"]))

    updater = application.updater
    assert updater is not None

    async def scenario() -> None:
        async with application:
            await application.start()
            await updater.start_polling(poll_interval=0, timeout=1)
            control.start(user["id"], "друг")
            await wait_for(lambda: bot_said("Привет, друг"))
            message_id = control.last_message(user["id"])["message_id"]
            query = control.press(user["id"], "Согласовать", message_id=message_id)
            await wait_for(lambda: bot_said("Согласовано"))
            answer = control.callback_answer(query["callback_query"]["id"])
            assert answer["text"] == "Готово"
            await updater.stop()
            await application.stop()

    asyncio.run(scenario())
    assert control.messages(user["id"])[-1]["text"] == "Согласовано"
