"""WSGI entry point for `gunicorn wsgi:app`; settings come from the environment and `.env`.

Bad settings print their problems and stop the process. Under gunicorn the exit code is the one
gunicorn reads as "the app cannot load", so its master stops too instead of starting new workers
for ever; `deploy/gunicorn.conf.py` checks the settings before any worker starts, and stops
with code 2 like every other command.
"""

import os
import sys

from gateway.entrypoints.cli import print_settings_problems
from gateway.entrypoints.subcommands import EXIT_BAD_SETTINGS
from gateway.entrypoints.web import app_from_environment
from gateway.errors import SettingsError

GUNICORN_APP_LOAD_ERROR = 4  # gunicorn.arbiter.Arbiter.APP_LOAD_ERROR: the master halts

try:
    app = app_from_environment()
except SettingsError as exc:
    print_settings_problems(exc)
    under_gunicorn = os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")
    sys.exit(GUNICORN_APP_LOAD_ERROR if under_gunicorn else EXIT_BAD_SETTINGS)
