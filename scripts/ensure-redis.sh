#!/usr/bin/env bash
# Makes sure a Redis answers at REDIS_URL (default redis://127.0.0.1:6379/0); starts a local
# redis-server without persistence when nothing answers on a local address.
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
python=${PYTHON:-.venv/bin/python}

ping() { "$python" - "$url" <<'PY'
import sys
import redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
except Exception:
    sys.exit(1)
PY
}

ping && exit 0
port=$("$python" -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p.port or 6379) if p.hostname in ("127.0.0.1", "localhost") else sys.exit(1)' "$url") || {
  echo "Redis at the configured REDIS_URL does not answer, and it is not a local address to start one on." >&2
  exit 1
}
command -v redis-server >/dev/null 2>&1 || {
  echo "Redis does not answer on 127.0.0.1:$port and redis-server is not installed (apt-get install redis-server)." >&2
  exit 1
}
echo "Starting redis-server on 127.0.0.1:$port"
mkdir -p /tmp/tg1c-redis
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir /tmp/tg1c-redis --logfile /tmp/tg1c-redis/redis.log
for _ in $(seq 1 50); do ping && exit 0; sleep 0.1; done
echo "redis-server was started but does not answer on 127.0.0.1:$port" >&2
exit 1
