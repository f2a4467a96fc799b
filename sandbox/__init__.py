"""Emulators of the gateway's two outside systems (a 1C infobase, the Telegram Bot API) for tests, benchmarks and the demo."""
