#!/usr/bin/env bash
# Set up (with the dev tools) and run the whole test suite, then ruff (lint and format) and mypy.
# Arguments go to pytest (e.g. `bash scripts/test.sh -k storage`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/python -m pytest "$@"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
