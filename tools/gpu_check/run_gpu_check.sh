#!/usr/bin/env bash
# On the GPU machine: install the carried wheelhouse into a temporary prefix, then run the check.
#   bash tools/gpu_check/run_gpu_check.sh --out "$OUT" [gpu_check.py options, e.g. --profile]
# Nothing is installed into the machine's own Python; the prefix goes first on PYTHONPATH, so the
# carried versions (mmengine, mmagic, mmcv-lite, transformers 4, ...) win over the image's.
# PYTHON selects the interpreter (default: python3); GPU_CHECK_CARRY the carried folder;
# GPU_CHECK_TIMEOUT the hard limit in seconds (default 500).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CARRY="${GPU_CHECK_CARRY:-$REPO/tools/gpu_check/carry}"
PYTHON="${PYTHON:-python3}"
if ! ls "$CARRY"/wheels/*.whl >/dev/null 2>&1; then
  echo "run_gpu_check.sh: error: no wheels in $CARRY/wheels (run tools/gpu_check/build_wheelhouse.py here and carry tools/gpu_check/carry)" >&2
  exit 2
fi
SITE="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check_site.XXXXXX")"
trap 'rm -rf "$SITE"' EXIT
start=$SECONDS
"$PYTHON" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
  --no-cache-dir --target "$SITE" "$CARRY"/wheels/*.whl
echo "run_gpu_check.sh: installed $(ls "$CARRY"/wheels/*.whl | wc -l) wheels into $SITE in $((SECONDS - start)) s"
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
# A hard stop behind gpu_check.py's own --time-budget (420 s): what it measured is already on disk.
timeout -k 15 "${GPU_CHECK_TIMEOUT:-500}" \
  "$PYTHON" "$REPO/tools/gpu_check/gpu_check.py" --deid-sample "$CARRY/deid_sample" "$@"
