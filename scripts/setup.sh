#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install newsflow with pinned dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsflow needs Python >= 3.11")'
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.newsflow-installed
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)${1:-}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  extras=""
  [ "${1:-}" = "dev" ] && extras="[dev]"
  # Some machines' pip configuration names local package mirrors that may be absent: drop that noise only.
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extras}" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
fi
