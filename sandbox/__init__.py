"""Emulators of 1C and the Telegram Bot API, for tests, benchmarks and the demo."""
