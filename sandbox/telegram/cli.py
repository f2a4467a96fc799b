"""`python -m sandbox telegram --port P`: the emulator in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import sys

from sandbox.telegram.config import DEFAULT_TOKEN, SandboxConfig
from sandbox.telegram.flood import BUCKET, MODES
from sandbox.telegram.harness import SandboxServer


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox telegram", description="Telegram Bot API emulator (one bot)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--token", default=DEFAULT_TOKEN, help="the bot's token (default: %(default)s)"
    )
    parser.add_argument("--global-per-second", type=float, default=30.0, help="0 turns it off")
    parser.add_argument("--chat-per-second", type=float, default=1.0, help="0 turns it off")
    parser.add_argument(
        "--flood-mode",
        choices=MODES,
        default=BUCKET,
        help="how the limits count: token buckets, or at most N in any sliding window",
    )
    parser.add_argument("--callback-timeout", type=float, default=15.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; exit 2 on a bad option or a port already taken."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if ":" not in args.token or not args.token.split(":", 1)[0].isdigit():
        print("--token must look like <bot id>:<secret>, e.g. 123456:ABC-DEF", file=sys.stderr)
        return 2
    config = SandboxConfig(
        token=args.token,
        global_per_second=args.global_per_second,
        chat_per_second=args.chat_per_second,
        flood_mode=args.flood_mode,
        callback_answer_timeout=args.callback_timeout,
    )
    try:
        server = SandboxServer(config, args.host, args.port, access_log=True)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"Telegram Bot API sandbox on {server.url} (bot token {config.token})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
