"""What the command line's modules share: exit codes, a command's signature, a wired gateway."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from gateway.bootstrap import Gateway, build
from gateway.settings import Settings

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
