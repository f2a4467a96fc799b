"""`python -m sandbox <emulator> [options]`: starts one emulator in the foreground."""

from __future__ import annotations

import importlib
import sys

EMULATORS = {
    "telegram": "sandbox.telegram.cli",
    "onec": "sandbox.onec.cli",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the named emulator's own command line."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in EMULATORS:
        names = " | ".join(EMULATORS)
        print(f"usage: python -m sandbox {{{names}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(EMULATORS[args[0]])
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
