#!/usr/bin/env bash
# The main job on a fresh machine: set up, then ingest samples/ with the embedded defaults
# (Prefect in local mode, SQLite and JSON under ./newsflow-data). Extra arguments go to `newsflow run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/newsflow run samples/ "$@"
