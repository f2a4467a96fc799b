"""Telegram via python-telegram-bot: the core's Messenger port, and updates as core events."""

from adapters.telegram.bot import TelegramBot

__all__ = ["TelegramBot"]
