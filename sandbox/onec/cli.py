"""`python -m sandbox onec [--host --port --base --user --password ...]`: runs the emulator."""

from __future__ import annotations

import argparse

from sandbox.onec.seed import SEEDS
from sandbox.onec.server import build_server, close_app, create_app
from sandbox.onec.state import (
    DEFAULT_BASE,
    DEFAULT_HTTP_ROOT,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DEFAULT_USER,
    Config,
)
from sandbox.serving import serve_until_interrupted


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox onec", description="1C:УХ-like infobase emulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--base", default=DEFAULT_BASE, help="publication root (default /uh)")
    parser.add_argument("--user", default=DEFAULT_USER, help="Basic auth login (default Шлюз)")
    parser.add_argument(
        "--password", default=DEFAULT_PASSWORD, help="Basic auth password (default sandbox)"
    )
    parser.add_argument(
        "--http-root", default=DEFAULT_HTTP_ROOT, help="HTTP service root (default approvals)"
    )
    parser.add_argument("--push-url", help="POST feed events to this gateway URL")
    parser.add_argument("--push-secret", help="HMAC key for push signatures (ONEC_PUSH_SECRET)")
    parser.add_argument("--soap-address", help="address the WSDL names (e.g. an internal host)")
    parser.add_argument("--bulk", type=int, default=0, help="extra one-stage approvals to seed")
    parser.add_argument(
        "--seed",
        choices=sorted(SEEDS),
        default=DEFAULT_SEED,
        help="the infobase to seed: uh (the holding's УХ, default) or erp (a company's ERP: "
        "other users and tasks, one approver shared with uh by phone)",
    )
    parser.add_argument("--title", default="", help="the infobase's title (default: the seed's)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.push_url and not args.push_secret:
        parser.error("--push-url needs --push-secret")
    return args


def main(argv: list[str]) -> int:
    """Serve until interrupted."""
    args = parse(argv)
    config = Config(
        args.base,
        args.user,
        args.password,
        args.http_root,
        args.push_url,
        args.push_secret,
        args.soap_address,
        args.bulk,
        args.seed,
        args.title,
    )
    app = create_app(config)
    server = build_server(app, args.host, args.port, quiet=not args.verbose)
    host, port = server.server_address[:2]
    root = f"http://{host!s}:{port}"
    print(
        f"1C emulator: {root}{config.base} ({config.title or SEEDS[config.seed].title}, user"
        f" {config.user}); control: {root}/_sandbox/",
        flush=True,
    )
    try:
        serve_until_interrupted(server)
    finally:
        close_app(app)
    return 0
