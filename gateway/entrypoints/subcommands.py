"""What the command line's modules share: exit codes, a command's signature, a wired gateway,
and the `--base` option of the commands that work on one infobase."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from gateway.bootstrap import Gateway, build
from gateway.errors import ConfigurationError
from gateway.settings import OneCBaseSettings, Settings

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_SETTINGS: Final = 2
EXIT_NOT_CONFIRMED: Final = 3

Command = Callable[[Settings, argparse.Namespace], int]


@contextmanager
def built(settings: Settings) -> Iterator[Gateway]:
    """The wired gateway for one command, closed afterwards as every entry point does."""
    gateway = build(settings)
    try:
        yield gateway
    finally:
        gateway.close()


def refuse(reason: str, code: int = EXIT_FAILED) -> int:
    """Say on stderr why the command stops; answers its exit code."""
    print(reason, file=sys.stderr)
    return code


def add_base_option(command: argparse.ArgumentParser) -> None:
    """`--base NAME`: which infobase of ONEC_BASES the command works on."""
    command.add_argument(
        "--base",
        default=None,
        metavar="NAME",
        help="the infobase of ONEC_BASES to work on (default: the first)",
    )


def chosen_base(settings: Settings, args: argparse.Namespace) -> OneCBaseSettings:
    """The base `--base` names, or the first; ConfigurationError (exit 2) for an unknown one."""
    name = getattr(args, "base", None)
    if name is None:
        return settings.bases[0]
    try:
        return settings.base(name)
    except KeyError:
        known = ", ".join(b.name for b in settings.bases if b.name) or "none: ONEC_BASES is empty"
        raise ConfigurationError(f"--base {name}: no such base (ONEC_BASES: {known})") from None
