"""A WSGI server served in the foreground, for the sandbox's command lines."""

from __future__ import annotations

import contextlib

from werkzeug.serving import BaseWSGIServer


def serve_until_interrupted(server: BaseWSGIServer) -> None:
    """Serve until Ctrl-C (KeyboardInterrupt), then close the listening socket."""
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
