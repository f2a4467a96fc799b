"""`python -m bench [--quick] [--only abcde] [--update-docs]`: run, write JSON, print the table."""

from __future__ import annotations

import argparse
import logging
import sys

from bench import run
from bench.sizes import BY_NAME


def main(argv: list[str] | None = None) -> int:
    """The command line of the benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes", choices=sorted(BY_NAME), default="full", help="full (default), quick, smoke"
    )
    parser.add_argument("--quick", action="store_const", const="quick", dest="sizes")
    parser.add_argument("--only", default=run.SCENARIOS, help="scenario letters, e.g. ab")
    parser.add_argument(
        "--update-docs", action="store_true", help="write the table into docs/performance.md"
    )
    args = parser.parse_args(argv)
    # The bench prints its table; the gateway's and emulators' chatter stays out of it.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    for noisy in ("gateway", "adapters", "sandbox", "werkzeug", "httpx", "telegram"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    run_data = run.run(BY_NAME[args.sizes], args.only)
    print(run.markdown(run_data))
    print(f"results: {run_data['path']}")
    if args.update_docs:
        run.update_docs(run_data)
        print(f"table written to {run.DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
