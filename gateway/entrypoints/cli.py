"""`tg1c <command>` (or `python -m gateway <command>`): the command line of design section 4."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from gateway import __version__
from gateway.bootstrap import build, load_settings, onec_dependency
from gateway.entrypoints.admin_commands import register as register_admin_commands
from gateway.entrypoints.logs import configure_logging
from gateway.entrypoints.onec_commands import onec_findings
from gateway.entrypoints.onec_commands import register as register_onec_commands
from gateway.entrypoints.subcommands import (
    EXIT_BAD_SETTINGS,
    EXIT_FAILED,
    EXIT_OK,
    Command,
    built,
    refuse,
)
from gateway.errors import ConfigurationError, SettingsError
from gateway.masking import SecretMask
from gateway.ports.documents import PdfEngine
from gateway.ports.pingable import Dependency
from gateway.settings import OneCBaseSettings, Settings
from gateway.usecases.health import check_readiness


def print_settings_problems(exc: SettingsError) -> None:
    """The settings' problems on stderr, one line each (values of secrets are never in them)."""
    print("Settings are invalid (docs/settings.md describes each):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def settings_warnings(settings: Settings) -> list[str]:
    """Lines for `check` about settings that work but are risky; none fails the check."""
    lines = []
    for base in settings.bases:
        name = onec_dependency(base.name)
        onec = urlsplit(base.base_url)
        if onec.scheme == "http" and not _is_loopback(onec.hostname or ""):
            lines.append(
                f"{name}: warning: {base.variable('ONEC_BASE_URL')} is http:// to "
                f"{onec.hostname}: the 1C user's password (HTTP Basic) crosses the network in "
                "clear; publish the infobase over https://"
            )
    telegram = urlsplit(settings.telegram_api_url)
    if telegram.scheme == "http" and not _is_loopback(telegram.hostname or ""):
        lines.append(
            f"telegram: warning: TELEGRAM_API_URL is http:// to {telegram.hostname}: the bot "
            "token (part of every request's URL) crosses the network in clear; use https://"
        )
    for base in settings.bases:
        if not base.verify_tls and urlsplit(base.base_url).scheme == "https":
            lines.append(
                f"{onec_dependency(base.name)}: warning: {base.variable('ONEC_VERIFY_TLS')}=false: "
                "1C's certificate is not checked, so anyone on the way can read the password; "
                f"give the company CA in {base.variable('ONEC_CA_BUNDLE')} instead"
            )
    return lines


def _onec_detail(base: OneCBaseSettings) -> str:
    detail = f"{base.connector} at {base.base_url}"
    if base.infobase.named:
        detail = f"{base.infobase.title}: {detail}"
    if base.ca_bundle and base.verify_tls:
        detail += f", CA bundle {base.ca_bundle}"
    elif not base.verify_tls:
        detail += ", certificate not verified"
    return detail


def _telegram_detail(settings: Settings) -> str:
    proxy = settings.telegram_proxy_display
    return f"{settings.telegram_api_url} via proxy {proxy}" if proxy else settings.telegram_api_url


def _pdf_detail(setting: str, engine: str) -> str:
    """`pdfkit`, or `pdfkit, chosen by PDF_ENGINE=auto` when the default picked it."""
    return f"{engine}, chosen by PDF_ENGINE=auto" if setting == PdfEngine.AUTO else engine


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    """Settings are valid by now; ping every dependency, one line each; 0 only if all answer.

    Reasons pass through the same masking as the logs: a dependency's error may quote a secret.
    """
    gateway = build(settings)
    print("settings: ok")
    for line in settings_warnings(settings):
        print(line)
    mask = SecretMask(settings.secret_values())
    findings: dict[str, tuple[list[str], list[str]]] = {}
    try:
        readiness = check_readiness(gateway.dependencies())
        for name, each in gateway.bases.items():
            if onec_dependency(name) not in readiness.failing:
                findings[onec_dependency(name)] = onec_findings(each.settings, each.onec)
    finally:
        gateway.close()
    details: dict[str, str] = {
        **{onec_dependency(base.name): _onec_detail(base) for base in settings.bases},
        Dependency.REDIS: settings.redis_url_display,
        Dependency.TELEGRAM: _telegram_detail(settings),
        Dependency.PDF: _pdf_detail(settings.pdf_engine, gateway.renderer.engine),
    }
    failed = False
    for name in gateway.dependencies():
        if name in readiness.failing:
            print(f"{name}: FAILED: {mask(readiness.failing[name])}")
        else:
            detail = f" ({details[name]})" if name in details else ""
            print(f"{name}: ok{detail}")
        warnings, failures = findings.get(name, ([], []))
        for line in warnings:
            print(f"{name}: warning: {mask(line)}")
        for line in failures:
            print(f"{name}: FAILED: {mask(line)}")
        failed = failed or bool(failures)
    for base in settings.bases:
        print(_push_line(base))
    return EXIT_OK if readiness.ready and not failed else EXIT_FAILED


def _push_line(base: OneCBaseSettings) -> str:
    """Whether 1C's pushes are accepted for `base`, and where they go."""
    if not base.infobase.named:
        if base.push_secret:
            return "push: on (1C's pushes signed with ONEC_PUSH_SECRET are accepted)"
        return "push: off (ONEC_PUSH_SECRET is not set: every push from 1C is refused)"
    secret = base.variable("ONEC_PUSH_SECRET")
    if base.push_secret:
        return f"push {base.name}: on (POST /onec/events/{base.name}, signed with {secret})"
    return f"push {base.name}: off ({secret} is not set: its pushes are refused)"


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    """Flask's development server; use `gunicorn wsgi:app` in production."""
    from gateway.entrypoints.web import create_app

    create_app(settings).run(host=args.host, port=args.port)
    return EXIT_OK


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """The worker, until SIGTERM or SIGINT."""
    from gateway.entrypoints.worker import Worker

    with built(settings) as gateway:
        Worker(gateway).run()
    return EXIT_OK


def cmd_admin_invite(settings: Settings, args: argparse.Namespace) -> int:
    """Print a one-time deep link that makes the linked user who opens it an admin."""
    from gateway.usecases.commands import INVITE_PREFIX, INVITE_TTL_SECONDS, create_invite

    with built(settings) as gateway:
        username = gateway.telegram.username()
        code = create_invite(gateway.store)
    hours = INVITE_TTL_SECONDS // 3600
    print(f"https://t.me/{username}?start={INVITE_PREFIX}{code}")
    print(f"Valid once, for {hours} hours. The user must be connected to the bot first.")
    return EXIT_OK


def cmd_set_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """Point Telegram at TELEGRAM_WEBHOOK_URL with TELEGRAM_WEBHOOK_SECRET."""
    if not settings.telegram_webhook_url or not settings.telegram_webhook_secret:
        return refuse(
            "Set TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET first.", EXIT_BAD_SETTINGS
        )
    with built(settings) as gateway:
        gateway.telegram.set_webhook(
            settings.telegram_webhook_url, settings.telegram_webhook_secret.reveal()
        )
    print(f"webhook set: {settings.telegram_webhook_url}")
    return EXIT_OK


def cmd_delete_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """Remove the webhook (polling mode needs none)."""
    with built(settings) as gateway:
        gateway.telegram.delete_webhook()
    print("webhook deleted")
    return EXIT_OK


def cmd_demo(options: Sequence[str]) -> int:
    """Become the sandbox's demo launcher (`python -m sandbox demo`) with the options given."""
    checkout = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{checkout}{os.pathsep}{path}" if path else str(checkout)
    command = [sys.executable, "-m", "sandbox", "demo", *options]
    # exec rather than import: the gateway imports nothing of the sandbox, and the launcher keeps
    # this process id, so Ctrl-C and SIGTERM reach it as they reached `demo` before.
    os.execve(sys.executable, command, env)


def parser() -> argparse.ArgumentParser:
    """The argument parser with every command that works today."""
    # The installed console script `tg1c` and `python -m gateway` run the same commands.
    prog = "tg1c" if Path(sys.argv[0]).name == "tg1c" else "python -m gateway"
    root = argparse.ArgumentParser(prog=prog, description="tg1c: 1C approval tasks in Telegram.")
    root.add_argument("--version", action="version", version=f"tg1c {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="command")

    run = commands.add_parser("run", help="the worker: Telegram updates, 1C sync, decisions")
    run.set_defaults(handler=cmd_run)

    hook = commands.add_parser("set-webhook", help="point Telegram at TELEGRAM_WEBHOOK_URL")
    hook.set_defaults(handler=cmd_set_webhook)
    unhook = commands.add_parser("delete-webhook", help="remove the webhook (for polling)")
    unhook.set_defaults(handler=cmd_delete_webhook)

    invite = commands.add_parser("admin-invite", help="print a one-time admin deep link (24 h)")
    invite.set_defaults(handler=cmd_admin_invite)

    check = commands.add_parser("check", help="validate settings and ping every dependency")
    check.set_defaults(handler=cmd_check)

    web = commands.add_parser("web", help="development web server")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.set_defaults(handler=cmd_web)

    register_onec_commands(commands)
    register_admin_commands(commands)
    demo = commands.add_parser(
        "demo",
        add_help=False,  # `demo --help` shows the launcher's own options
        help="the sandbox: both emulators, the gateway and a web page to play the approver",
    )
    demo.set_defaults(standalone=cmd_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, load and validate settings, run the command; exit 2 on bad settings."""
    root = parser()
    args, options = root.parse_known_args(argv)
    if getattr(args, "standalone", None) is not None:
        # `demo` brings its own settings for the processes it starts; it reads none itself.
        return int(args.standalone(options))
    if options:
        root.error(f"unrecognized arguments: {' '.join(options)}")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print_settings_problems(exc)
        return EXIT_BAD_SETTINGS
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    handler: Command = args.handler
    try:
        return handler(settings, args)
    except ConfigurationError as exc:
        # A profile that does not parse, a missing engine: wrong set-up, like bad settings.
        mask = SecretMask(settings.secret_values())
        return refuse(f"Configuration error: {mask(str(exc))}", EXIT_BAD_SETTINGS)
