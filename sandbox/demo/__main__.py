"""`python -m sandbox.demo --telegram-url URL (--onec-url URL | --base NAME=URL ...) [--port P]`:
serves the page (over one 1C emulator, or one per named base)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from werkzeug.serving import make_server

from sandbox.demo.app import create_app
from sandbox.serving import serve_until_interrupted


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.demo", description="the demo page over both emulators"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--telegram-url", default="http://127.0.0.1:8081")
    parser.add_argument("--onec-url", default="http://127.0.0.1:8082", help="server root")
    parser.add_argument(
        "--base",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a named base's 1C emulator (server root), in ONEC_BASES order; replaces --onec-url",
    )
    args = parser.parse_args(argv)
    if any("=" not in base for base in args.base):
        parser.error("--base takes NAME=URL")
    return args


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    args = parse(sys.argv[1:] if argv is None else argv)
    # The page polls every second: a request log line each time would drown the gateway's log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    bases = dict(base.split("=", 1) for base in args.base)
    app = create_app(args.telegram_url, bases or args.onec_url)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"demo page serving on port {server.server_port}", flush=True)
    serve_until_interrupted(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
