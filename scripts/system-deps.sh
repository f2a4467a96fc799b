#!/usr/bin/env bash
# Installs the system packages the tests and the PDF engines need, when they are missing.
# Run as root (CI, a fresh machine); as another user it only says what to install.
set -euo pipefail
. "$(dirname "$0")/packages.sh"

command -v wkhtmltopdf >/dev/null 2>&1 || need+=(wkhtmltopdf)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# deploy/ checks (tests/integration/test_deploy.py): units, the nginx example and its test cert.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# WeasyPrint loads Pango through ctypes at import time.
need_library 'libpangoft2-1.0.so.0' libpango-1.0-0 libpangoft2-1.0-0
# Without HarfBuzz-Subset WeasyPrint warns at import (a DeprecationWarning fails the tests).
need_library 'libharfbuzz-subset.so.0' libharfbuzz-subset0
# The demo page's browser test drives Debian's Chromium (Playwright never downloads a browser).
command -v chromium >/dev/null 2>&1 || need+=(chromium)

install_needed "Missing system packages" "Installing system packages"
