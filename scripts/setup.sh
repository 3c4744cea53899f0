#!/usr/bin/env bash
# Install what perfeval and its tests need on a fresh Debian machine (idempotent, quick when done).
# System: poppler-utils (pdftotext/pdffonts/pdftoppm for checking PDFs), chromium (browser test of the
# workbench), GNU time, and Pango for WeasyPrint. Python: perfeval itself with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/bin/time ] || need+=(time)  # measures the hostile-file checks (tests and benchmarks)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: please install: ${need[*]}" >&2
  fi
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
