#!/usr/bin/env bash
# Install what perfeval and its tests need (idempotent, quick when done), as root or as an ordinary user.
# Python: a project virtual environment in .venv (made with the first Python >= 3.11 found; remade when
# broken) holding perfeval from this checkout (editable) with its test extras — so a system Python that is
# "externally managed" (PEP 668, Debian 12) is never touched. System (Debian): poppler-utils
# (pdftotext/pdffonts/pdftoppm for checking PDFs), chromium (browser test of the workbench), GNU time, and
# Pango and HarfBuzz's subsetter for WeasyPrint — installed when run as root, otherwise named; tests needing them skip with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
say() { echo "setup: $*" >&2; }

# -- Debian packages
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/bin/time ] || need+=(time)  # measures the hostile-file checks (tests and benchmarks)
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)  # /sbin is not on an ordinary user's PATH
# the shared-library cache read once: under pipefail, `ldconfig -p | grep -q` fails at random (grep quits at the
# first match and ldconfig, still writing, dies of SIGPIPE), which named installed libraries as missing
libraries=$("$ldconfig" -p 2>/dev/null || true)
has_library() { [[ $libraries == *"$1"* ]]; }
has_library libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# WeasyPrint cuts the PDF's font subsets with HarfBuzz's subsetter when it is there (fontTools otherwise,
# with other bytes): installing it makes PDFs the same on every machine
has_library libharfbuzz-subset || need+=(libharfbuzz-subset0)
usable() {  # a Python >= 3.11 that can make a virtual environment with pip
  "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}
pythons=("${PERFEVAL_PYTHON:-}" python3 python3.13 python3.12 python3.11 /usr/bin/python3)
python=""
for candidate in "${pythons[@]}"; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && usable "$candidate"; then
    python=$(command -v "$candidate"); break
  fi
done
[ -n "$python" ] || [ -x "$VENV/bin/python" ] || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    say "not root, so these Debian packages are not installed: ${need[*]}"
    say "  as root: apt-get install -y ${need[*]}   (until then the tests needing them are skipped)"
  fi
fi
if [ -z "$python" ] && usable /usr/bin/python3; then python=/usr/bin/python3; fi

# -- the project virtual environment
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' \
    >/dev/null 2>&1; then
  say "$VENV is broken (its Python is missing, too old or has no pip): making it again"
  rm -rf "$VENV"
fi
if [ ! -e "$VENV" ]; then
  if [ -z "$python" ]; then
    say "no Python >= 3.11 with the venv module found (tried: ${pythons[*]:1})"
    say "  install it (Debian: apt-get install -y python3 python3-venv) or name one with PERFEVAL_PYTHON=/path/to/python"
    exit 1
  fi
  say "making $VENV with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
  "$python" -m venv "$VENV"
fi

# -- perfeval (editable, from this checkout) with its test extras; skipped when nothing changed
stamp=$(cat pyproject.toml $([ -f setup.py ] && echo setup.py) | "$VENV/bin/python" -c \
  'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read() + sys.version.encode()).hexdigest())')
if [ "$(cat "$VENV/.perfeval-setup" 2>/dev/null)" != "$stamp" ] || [ ! -x "$VENV/bin/perfeval" ]; then
  say "installing perfeval and its dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$stamp" > "$VENV/.perfeval-setup"
fi
