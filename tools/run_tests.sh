#!/usr/bin/env bash
# The test command: create the environment if it is missing, then run the whole test suite on
# both cores (pytest-xdist, one worker per core, each test file kept on one worker so that its
# module fixtures are built once). The fast tier for the edit loop: tools/run_tests.sh -m "not slow".
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RDID_VENV:-$REPO/.venv}"
bash "$REPO/tools/install_env.sh"
cd "$REPO"
# one thread per worker: two workers of two torch threads each would oversubscribe the 2 cores
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
exec "$VENV/bin/python" -m pytest tests -ra --durations=15 -n "${RDID_TEST_WORKERS:-2}" \
  --dist loadfile "$@"
