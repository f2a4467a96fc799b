"""Gunicorn settings for the web process: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

The master checks the gateway's settings before it starts any worker: bad settings print their
problems once and stop gunicorn with exit code 2 (systemd does not restart on 2), instead of
workers that fail to boot being started again and again. Its own log lines then go through the
gateway's logging (LOG_LEVEL, LOG_FORMAT, secrets masked), as the workers' do.

Each value can be changed through the environment (GUNICORN_BIND, GUNICORN_WORKERS,
GUNICORN_THREADS, GUNICORN_TIMEOUT). With several workers, PROMETHEUS_MULTIPROC_DIR must be set
before gunicorn starts, so every worker and the gateway worker write their metrics where any
web worker can sum them for `/metrics` (deploy/README.md).
"""

from __future__ import annotations

import os
import sys
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads: /readyz waits on 1C (up to ONEC_TIMEOUT), which must not block webhook deliveries.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than ONEC_TIMEOUT (30 s by default), so a slow 1C makes /readyz answer 503, not a kill.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# No preload: build() starts the Telegram client's thread, and threads do not survive fork.
preload_app = False
accesslog = "-"
errorlog = "-"
# nginx on the same host terminates TLS (deploy/nginx.conf).
forwarded_allow_ips = "127.0.0.1"


def on_starting(server: Any) -> None:
    """Stop on bad settings; log like the workers; create the metrics directory before the
    first worker writes to it."""
    from gateway.bootstrap import load_settings
    from gateway.entrypoints.cli import print_settings_problems
    from gateway.entrypoints.logs import configure_logging
    from gateway.entrypoints.subcommands import EXIT_BAD_SETTINGS
    from gateway.errors import SettingsError

    try:
        settings = load_settings()
    except SettingsError as exc:
        print_settings_problems(exc)
        sys.exit(EXIT_BAD_SETTINGS)
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus_client a worker died, so its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
