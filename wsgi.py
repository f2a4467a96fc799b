"""WSGI entry point for `gunicorn wsgi:app`; settings come from the environment and `.env`."""

import sys

from gateway.entrypoints.web import create_app
from gateway.errors import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    print("Settings are invalid (see config/gateway.env.example):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(2)
