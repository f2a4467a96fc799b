"""`links list|revoke` and `outbox list|retry|drop`: the administrator's commands (issue 19).

Each has `--json`; `links revoke` and `outbox drop` ask for confirmation unless `--yes`. What
they change is logged (gateway.usecases.admin) on stderr, through the same masking as every log.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from gateway.entrypoints.subcommands import (
    EXIT_FAILED,
    EXIT_NOT_CONFIRMED,
    EXIT_OK,
    add_base_option,
    built,
    chosen_base,
    refuse,
)
from gateway.ports.storage import Store
from gateway.settings import Settings
from gateway.usecases.admin import (
    drop_entries,
    link_to_dict,
    links_to_revoke,
    outbox_items,
    retry_entries,
    revoke_links,
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `links` and `outbox` with their subcommands to the CLI's subparsers."""
    links = commands.add_parser("links", help="approvers connected to the bot")
    links_commands = links.add_subparsers(dest="links_command", required=True, metavar="subcommand")
    listing = links_commands.add_parser("list", help="every Telegram user linked to a 1C user")
    _json_option(listing)
    add_base_option(listing)
    listing.set_defaults(handler=cmd_links_list)
    revoke = links_commands.add_parser(
        "revoke", help="disconnect Telegram users (by Telegram id, or all of one 1C user)"
    )
    revoke.add_argument("telegram_user_ids", nargs="*", type=int, metavar="TELEGRAM_ID")
    revoke.add_argument("--onec-user", default="", metavar="ID", help="1C user's id (Ref_Key)")
    _json_option(revoke)
    _yes_option(revoke)
    add_base_option(revoke)
    revoke.set_defaults(handler=cmd_links_revoke)

    outbox = commands.add_parser("outbox", help="decisions on their way to 1C")
    outbox_commands = outbox.add_subparsers(
        dest="outbox_command", required=True, metavar="subcommand"
    )
    listing = outbox_commands.add_parser("list", help="decisions waiting for 1C, then dead ones")
    _json_option(listing)
    add_base_option(listing)
    listing.set_defaults(handler=cmd_outbox_list)
    retry = outbox_commands.add_parser("retry", help="send entries to 1C again now")
    retry.add_argument("entry_ids", nargs="+", metavar="ID")
    _json_option(retry)
    add_base_option(retry)
    retry.set_defaults(handler=cmd_outbox_retry)
    drop = outbox_commands.add_parser("drop", help="forget entries: never sent to 1C")
    drop.add_argument("entry_ids", nargs="+", metavar="ID")
    _json_option(drop)
    _yes_option(drop)
    add_base_option(drop)
    drop.set_defaults(handler=cmd_outbox_drop)


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def _yes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


@contextmanager
def _store(settings: Settings, args: argparse.Namespace) -> Iterator[Store]:
    """The store of the base `--base` names (links and the outbox are kept per base)."""
    name = chosen_base(settings, args).name
    with built(settings) as gateway:
        yield gateway.bases[name].store


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _confirmed(args: argparse.Namespace, question: str) -> bool:
    """True with --yes, or when the person at the terminal answers y."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(f"{question}: not confirmed (add --yes to run without a terminal)", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "д", "да")


def cmd_links_list(settings: Settings, args: argparse.Namespace) -> int:
    """Every link: Telegram id, 1C user, phone, since when, admin or not."""
    with _store(settings, args) as store:
        links = store.all_links()
    if args.json:
        _print_json([link_to_dict(link) for link in links])
        return EXIT_OK
    for link in links:
        admin = " admin" if link.is_admin else ""
        print(
            f"{link.telegram_user_id}\t{link.onec_user_name} ({link.onec_user_id})\t"
            f"{link.phone}\tsince {link.linked_at:%Y-%m-%d %H:%M}{admin}"
        )
    print(f"{len(links)} linked")
    return EXIT_OK


def cmd_links_revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Disconnect the named users; 1 if none of them is linked, 3 if not confirmed."""
    if not args.telegram_user_ids and not args.onec_user:
        return refuse("Name Telegram ids, or --onec-user ID.")
    with _store(settings, args) as store:
        links = links_to_revoke(store, args.telegram_user_ids, args.onec_user)
        if not links:
            return refuse("No such link.")
        names = ", ".join(f"{link.telegram_user_id} ({link.onec_user_name})" for link in links)
        if not _confirmed(args, f"Disconnect {names}"):
            return EXIT_NOT_CONFIRMED
        revoke_links(store, links)
    if args.json:
        _print_json({"revoked": [link.telegram_user_id for link in links]})
    else:
        print(f"revoked: {names}")
    return EXIT_OK


def cmd_outbox_list(settings: Settings, args: argparse.Namespace) -> int:
    """Decisions waiting for 1C (with the next attempt) and those given up on."""
    with _store(settings, args) as store:
        items = outbox_items(store)
    if args.json:
        _print_json([item.as_dict() for item in items])
        return EXIT_OK
    for item in items:
        request = item.entry.request
        when = (
            f"next {datetime.fromtimestamp(item.entry.next_at):%Y-%m-%d %H:%M:%S}"
            if item.state == "waiting"
            else "dead"
        )
        error = f"\t{item.entry.last_error}" if item.entry.last_error else ""
        print(
            f"{item.entry.id}\t{when}\t{request.decision.value}\ttask {request.task_id}\t"
            f"{request.user_name}\tattempts {item.entry.attempts}{error}"
        )
    waiting = sum(1 for item in items if item.state == "waiting")
    print(f"{waiting} waiting, {len(items) - waiting} dead")
    return EXIT_OK


def cmd_outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    """Make the entries due now; 1 if any of them could not be retried."""
    with _store(settings, args) as store:
        retried = retry_entries(store, args.entry_ids, time.time())
    return _report(args, "retried", retried)


def cmd_outbox_drop(settings: Settings, args: argparse.Namespace) -> int:
    """Forget the entries after confirmation; 1 if any could not be dropped."""
    ids = ", ".join(args.entry_ids)
    if not _confirmed(args, f"Drop {ids}: these decisions will never reach 1C"):
        return EXIT_NOT_CONFIRMED
    with _store(settings, args) as store:
        dropped = drop_entries(store, args.entry_ids)
    return _report(args, "dropped", dropped)


def _report(args: argparse.Namespace, verb: str, done: list[str]) -> int:
    missed = [entry_id for entry_id in args.entry_ids if entry_id not in done]
    if args.json:
        _print_json({verb: done, "not_found_or_busy": missed})
    else:
        for entry_id in done:
            print(f"{verb}: {entry_id}")
        for entry_id in missed:
            print(f"not {verb} (no such entry, or a worker is sending it now): {entry_id}")
    return EXIT_FAILED if missed else EXIT_OK
