#!/usr/bin/env bash
# The main job on data that needs no download: de-identify -> train RDID-GAN until it restores the
# faces it trains on better than the mosaic -> restore, including an image it never saw -> score the
# face regions -> pictures (tools/demo.py; under 10 min on 2 CPU cores).
# Data: $RDID_SAMPLE or ../shared/data/coco_person_sample when present, else the images shipped in
# demo/ (see demo/README.md). AP rows only with Keypoint R-CNN weights: RDID_DETECTOR_WEIGHTS.
# Options are passed to tools/demo.py (--out DIR, --iters N).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RDID_VENV:-$REPO/.venv}"
INSTALL_LOG="${TMPDIR:-/tmp}/rdid_mm_install_env.log"
echo "checking the environment (a first run installs it: about 11 min on 2 cores) ..."
if ! bash "$REPO/tools/install_env.sh" >"$INSTALL_LOG" 2>&1; then
  tail -n 20 "$INSTALL_LOG" >&2
  echo "demo.sh: the environment could not be set up (full log: $INSTALL_LOG)" >&2
  exit 1
fi
echo "environment ready: $VENV (install log: $INSTALL_LOG)"
cd "$REPO"
exec "$VENV/bin/python" tools/demo.py "$@"
