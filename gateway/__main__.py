"""`python -m gateway`: see gateway.entrypoints.cli."""

import sys

from gateway.entrypoints.cli import main

sys.exit(main())
