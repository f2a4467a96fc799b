"""A Telegram Bot API emulator: one bot, in-memory state, Telegram's answers and errors."""
