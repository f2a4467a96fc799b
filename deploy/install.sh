#!/usr/bin/env bash
# Production install of the tg1c gateway on Debian 12/13 or Ubuntu 22.04/24.04 (run as root).
#
#   deploy/install.sh               install, or upgrade in place (settings are kept)
#   deploy/install.sh --uninstall   remove the program, units and command; keep settings and data
#
# What it does: a system user tg1c; /opt/tg1c/.venv with the runtime dependencies only (pinned
# with hashes in requirements.lock); /etc/tg1c/tg1c.env (mode 0600) from the settings example,
# with GATEWAY_SECRET and the Redis password generated; the units tg1c-web and tg1c-worker; the
# command /usr/local/bin/tg1c (runs `tg1c ...` with the service's settings); the distribution's
# redis-server with AOF persistence, a password and noeviction (skipped when REDIS_URL in the
# settings names a Redis on another host). wkhtmltopdf is installed when the distribution
# packages it, WeasyPrint's libraries always (PDF_ENGINE=auto takes what is there).
#
# Options for trying it out and for tests:
#   --root DIR    install under DIR (DIR/opt/tg1c, DIR/etc/tg1c, ...); paths inside the files
#                 written point under DIR too, so the result runs from there
#   --no-system   no apt-get, useradd, chown or systemctl (for --root installs as any user)
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT=""
SYSTEM=1
ACTION=install

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$(realpath -m "${2:?--root needs a directory}")"; shift 2 ;;
    --root=*) ROOT="$(realpath -m "${1#--root=}")"; shift ;;
    --no-system) SYSTEM=0; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

OPT="$ROOT/opt/tg1c"
ETC="$ROOT/etc/tg1c"
ENV_FILE="$ETC/tg1c.env"
UNITS="$ROOT/etc/systemd/system"
COMMAND="$ROOT/usr/local/bin/tg1c"
REDIS_CONF_DIR="$ROOT/etc/redis"
REDIS_CONF="$REDIS_CONF_DIR/tg1c.conf"
SERVICES=(tg1c-web.service tg1c-worker.service)

say() { echo "tg1c: $*"; }

if [ "$SYSTEM" -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo deploy/install.sh), or use --root DIR --no-system" >&2
  exit 1
fi

uninstall() {
  if [ "$SYSTEM" -eq 1 ]; then
    systemctl disable --now "${SERVICES[@]}" 2>/dev/null || true
  fi
  for unit in "${SERVICES[@]}"; do rm -f "$UNITS/$unit"; done
  [ "$SYSTEM" -eq 1 ] && systemctl daemon-reload
  rm -rf "$OPT"
  rm -f "$COMMAND"
  if [ "$SYSTEM" -eq 1 ] && id tg1c >/dev/null 2>&1; then
    userdel tg1c
  fi
  say "removed /opt/tg1c, the units and the tg1c command"
  say "kept: the settings in ${ENV_FILE#"$ROOT"}, Redis's data and ${REDIS_CONF#"$ROOT"}"
}

# The value of NAME in the settings file ("" when absent).
setting() {
  sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
}

pick_python() {
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  return 1
}

system_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  local packages=(python3-venv fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0
    libharfbuzz-subset0 openssl)
  # Debian 13 no longer packages wkhtmltopdf; PDF_ENGINE=auto then uses WeasyPrint.
  if apt-cache show wkhtmltopdf >/dev/null 2>&1; then packages+=(wkhtmltopdf); fi
  if ! pick_python >/dev/null; then packages+=(python3.11 python3.11-venv); fi
  [ "$1" = local ] && packages+=(redis-server)
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  if ! id tg1c >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin tg1c
  fi
}

random_secret() {
  "$1" -c 'import secrets; print(secrets.token_hex(32))'
}

settings_file() {
  local python="$1"
  install -d -m 0750 "$ETC"
  if [ -f "$ENV_FILE" ]; then
    say "settings kept: ${ENV_FILE#"$ROOT"}"
  else
    local example="$SOURCE/config/gateway.env.example"
    (umask 077 && sed \
      -e "s/^GATEWAY_SECRET=.*/GATEWAY_SECRET=$(random_secret "$python")/" \
      -e "s/^REDIS_PASSWORD=.*/REDIS_PASSWORD=$(random_secret "$python")/" \
      "$example" >"$ENV_FILE")
    say "settings written: ${ENV_FILE#"$ROOT"} (fill in ONEC_BASE_URL, ONEC_USERNAME, ONEC_PASSWORD, TELEGRAM_BOT_TOKEN)"
  fi
  chmod 0600 "$ENV_FILE"
}

# "local" when REDIS_URL is empty or names this host, else "external".
redis_kind() {
  local url
  url="$(setting REDIS_URL)"
  case "$url" in
    ""|redis://127.0.0.1*|redis://localhost*|redis://:*@127.0.0.1*|redis://:*@localhost*|unix://*) echo local ;;
    *) echo external ;;
  esac
}

redis_config() {
  local password
  password="$(setting REDIS_PASSWORD)"
  if [ -z "$password" ]; then
    say "REDIS_PASSWORD is empty in ${ENV_FILE#"$ROOT"}: Redis left without a password" >&2
    return 1
  fi
  install -d "$REDIS_CONF_DIR"
  local previous=""
  [ -f "$REDIS_CONF" ] && previous="$(cat "$REDIS_CONF")"
  (umask 027 && cat >"$REDIS_CONF" <<EOF
# Written by tg1c's deploy/install.sh; read last by redis.conf (include), so it wins.
# Links and queued decisions live here: keep them across restarts (AOF) and never evict them.
appendonly yes
appendfsync everysec
maxmemory-policy noeviction
requirepass $password
EOF
  )
  local main="$REDIS_CONF_DIR/redis.conf"
  if [ -f "$main" ] && ! grep -qx "include ${REDIS_CONF#"$ROOT"}" "$main"; then
    printf '\n# tg1c: persistence, password, memory policy\ninclude %s\n' "${REDIS_CONF#"$ROOT"}" >>"$main"
  fi
  if [ "$SYSTEM" -eq 1 ]; then
    chown redis:redis "$REDIS_CONF"
    systemctl enable redis-server >/dev/null 2>&1
    # An upgrade that changes nothing here leaves Redis running.
    if [ "$previous" != "$(cat "$REDIS_CONF")" ] || ! systemctl is-active --quiet redis-server; then
      systemctl restart redis-server
    fi
  fi
  say "Redis: AOF on, noeviction, password from REDIS_PASSWORD (${REDIS_CONF#"$ROOT"})"
}

program() {
  local python="$1"
  install -d "$OPT" "$OPT/deploy" "$OPT/docs"
  if [ ! -x "$OPT/.venv/bin/python" ]; then
    "$python" -m venv "$OPT/.venv"
  fi
  "$OPT/.venv/bin/python" -m pip install -q --disable-pip-version-check \
    --require-hashes -r "$SOURCE/requirements.lock"
  # Built from a clean copy: setuptools builds in the source tree, and a build/ left there by an
  # earlier version could bring files that version removed into this one.
  local copy
  copy="$(mktemp -d)"
  tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./build --exclude='*.egg-info' \
    -cf - . | tar -C "$copy" -xf -
  "$OPT/.venv/bin/python" -m pip install -q --disable-pip-version-check \
    --no-deps --force-reinstall "$copy"
  rm -rf "$copy"
  install -m 0644 "$SOURCE/deploy/gunicorn.conf.py" "$OPT/deploy/gunicorn.conf.py"
  install -m 0644 "$SOURCE"/docs/*.md "$OPT/docs/"
  install -m 0644 "$SOURCE/config/gateway.env.example" "$OPT/tg1c.env.example"
  say "program: ${OPT#"$ROOT"}/.venv ($("$OPT/.venv/bin/tg1c" --version))"
}

units() {
  install -d "$UNITS"
  for unit in "${SERVICES[@]}"; do
    sed -e "s#/opt/tg1c#${OPT}#g" -e "s#/etc/tg1c/tg1c.env#${ENV_FILE}#g" \
      "$SOURCE/deploy/systemd/$unit" >"$UNITS/$unit"
    chmod 0644 "$UNITS/$unit"
  done
  install -d "$(dirname "$COMMAND")"
  cat >"$COMMAND" <<EOF
#!/bin/sh
# tg1c commands (check, links, outbox, admin-invite, ...) with the service's settings.
# Run as root: ${ENV_FILE} is readable by root only.
# The settings file is read with python-dotenv; the environment wins. exec, so
# signals (Ctrl-C, kill) reach the command itself.
exec "${OPT}/.venv/bin/python" -c '
import os, sys
from dotenv import dotenv_values
settings = {k: v for k, v in dotenv_values(sys.argv[1]).items() if v is not None}
os.execve(sys.argv[2], sys.argv[2:], {**settings, **os.environ})
' "${ENV_FILE}" "${OPT}/.venv/bin/tg1c" "\$@"
EOF
  chmod 0755 "$COMMAND"
}

services() {
  local upgrade="$1"
  systemctl daemon-reload
  systemctl enable "${SERVICES[@]}" >/dev/null 2>&1
  if [ "$upgrade" -eq 1 ]; then
    systemctl try-restart "${SERVICES[@]}"
    say "upgraded; running services restarted"
  else
    say "next: fill in ${ENV_FILE}, run 'tg1c check', then 'systemctl start tg1c-web tg1c-worker'"
  fi
}

install_all() {
  local upgrade=0 python kind
  [ -x "$OPT/.venv/bin/tg1c" ] && upgrade=1
  # The Redis decision needs the settings; the settings file needs a Python for the secrets.
  kind=local
  [ -f "$ENV_FILE" ] && kind="$(redis_kind)"
  [ "$SYSTEM" -eq 1 ] && system_packages "$kind"
  python="$(pick_python)" || { echo "install.sh: Python 3.11 or newer is needed" >&2; exit 1; }
  settings_file "$python"
  program "$python"
  units
  if [ "$(redis_kind)" = local ]; then
    redis_config
  else
    say "Redis: using the one REDIS_URL names in ${ENV_FILE#"$ROOT"}; not configured here"
  fi
  [ "$SYSTEM" -eq 1 ] && services "$upgrade"
  return 0
}

if [ "$ACTION" = uninstall ]; then uninstall; else install_all; fi
