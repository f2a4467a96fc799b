#!/usr/bin/env bash
# Installs the system packages `make demo` needs when they are missing: Pango and fonts for the
# PDFs (WeasyPrint), and redis-server unless a Redis already answers at REDIS_URL.
# Run as root (a fresh machine); as another user it only says what to install.
set -euo pipefail
python=${PYTHON:-.venv/bin/python}

need=()
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# (No `grep -q`: with pipefail, its early exit would fail ldconfig with SIGPIPE.)
ldconfig -p 2>/dev/null | grep 'libpangoft2-1.0.so.0' >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep 'libharfbuzz-subset.so.0' >/dev/null || need+=(libharfbuzz-subset0)
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

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "make demo needs these system packages: ${need[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing system packages for the demo: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
