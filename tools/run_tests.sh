#!/usr/bin/env bash
# The test command: create the environment if it is missing, then run the whole test suite.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RDID_VENV:-$REPO/.venv}"
bash "$REPO/tools/install_env.sh"
cd "$REPO"
exec "$VENV/bin/python" -m pytest tests -ra --durations=15 "$@"
