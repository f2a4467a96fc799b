#!/usr/bin/env bash
# Installs the system packages `make demo` needs when they are missing: Pango and fonts for the
# PDFs (WeasyPrint), and redis-server unless a Redis already answers at REDIS_URL.
# Run as root (a fresh machine); as another user it only says what to install.
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
. "$(dirname "$0")/packages.sh"

[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
need_library 'libpangoft2-1.0.so.0' libpango-1.0-0 libpangoft2-1.0-0
need_library 'libharfbuzz-subset.so.0' libharfbuzz-subset0
redis_answers() { "$python" - "${REDIS_URL:-redis://127.0.0.1:6379/0}" <<'PY'
import sys
import redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
except Exception:
    sys.exit(1)
PY
}
command -v redis-server >/dev/null 2>&1 || redis_answers || need+=(redis-server)

install_needed "make demo needs these system packages" "Installing system packages for the demo"
