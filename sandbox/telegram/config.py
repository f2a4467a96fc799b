"""The emulator's settings: its one bot, flood limits and timings (defaults are Telegram-like)."""

from __future__ import annotations

from dataclasses import dataclass, replace

# The sample token of Telegram's own documentation; any other token gets 401.
DEFAULT_TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class SandboxConfig:
    """How the emulated bot and server behave; tests shorten the timings."""

    token: str = DEFAULT_TOKEN
    bot_first_name: str = "tg1c sandbox"
    bot_username: str = "tg1c_sandbox_bot"
    # Flood control: messages per second for the whole bot and for one chat (0 turns a limit off),
    # and how many may go to one chat at once before its rate applies (Telegram tolerates short
    # bursts); the bot-wide limit allows one second's worth at once.
    global_per_second: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: int = 3
    # How the limits count: "bucket" (the burst above, then the rate) or "strict" (at most the
    # rate's count in any sliding window: no burst at all), see flood.py.
    flood_mode: str = "bucket"
    # Seconds every Bot API call waits before it is handled: loopback answers in a millisecond,
    # Telegram over the internet in tens to hundreds (benchmarks of sends in flight).
    latency_seconds: float = 0.0
    # A callback query answered later than this is "too old", as in Telegram (about 15 s there).
    callback_answer_timeout: float = 15.0
    # Webhook delivery: wait before the first retry, doubled up to the maximum; per-request timeout.
    webhook_retry_base: float = 1.0
    webhook_retry_max: float = 60.0
    webhook_timeout: float = 10.0
    # Telegram's limits: bots upload up to 50 MB and download (getFile) up to 20 MB.
    max_upload_bytes: int = 50 * MEGABYTE
    max_download_bytes: int = 20 * MEGABYTE

    @property
    def bot_id(self) -> int:
        """The bot's user id is the number before the colon of its token, as in Telegram."""
        head = self.token.split(":", 1)[0]
        return int(head) if head.isdigit() else 0

    def without_flood_control(self) -> SandboxConfig:
        """The same settings with both flood limits off (tests that send many messages)."""
        return replace(self, global_per_second=0.0, chat_per_second=0.0)
