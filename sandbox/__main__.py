"""`python -m sandbox <emulator> [options]`: starts one emulator (or the whole demo) in the
foreground."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "telegram": "sandbox.telegram.cli",
    "onec": "sandbox.onec.cli",
    # Both emulators, the gateway's processes and the demo page (`make demo`).
    "demo": "sandbox.demo.launcher",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the named emulator's (or the demo launcher's) own command line."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        names = " | ".join(COMMANDS)
        print(f"usage: python -m sandbox {{{names}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args[0]])
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
