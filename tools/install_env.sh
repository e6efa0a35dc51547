#!/usr/bin/env bash
# Create (or refresh) the rdid_mm environment: the pinned OpenMMLab stack, mmcv 2.1.0 compiled with
# its ops, mmagic without its broken declared dependencies, and rdid_mm in editable mode.
# Idempotent: a stamp keyed by the requirement files skips finished work; the compiled mmcv wheel is
# cached under ~/.cache/rdid_mm/ keyed by the torch and mmcv versions. Fails loudly, naming the phase.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RDID_VENV:-$REPO/.venv}"
CACHE="${RDID_CACHE:-$HOME/.cache/rdid_mm}"
PYTHON="${RDID_PYTHON:-python3.11}"
REQ="$REPO/requirements"
TORCH_VERSION="$(sed -n 's/^torch==//p' "$REQ/torch.txt")"
MMCV_VERSION="$(sed -n 's/^mmcv==//p' "$REQ/openmmlab.txt")"
MMAGIC_VERSION="$(sed -n 's/^mmagic==//p' "$REQ/openmmlab.txt")"
MMCV_CACHE="$CACHE/mmcv-${MMCV_VERSION}-torch${TORCH_VERSION}-$(uname -m)"
# Compiler flags for mmcv's ops. setuptools replaces Python's own (-DNDEBUG -g -fwrapv -O3 -Wall) by
# $CFLAGS when it is set; RDID_MMCV_CFLAGS="" keeps Python's.
MMCV_CFLAGS="${RDID_MMCV_CFLAGS--DNDEBUG -fwrapv -Wall -g0 -O1}"

CURRENT_PHASE="start"
trap 'echo "install_env.sh: FAILED in phase \"$CURRENT_PHASE\" (exit $?)" >&2' ERR

phase() {  # phase NAME COMMAND...: run one step, print its duration
  CURRENT_PHASE="$1"; shift
  local start=$SECONDS
  echo "==> [$CURRENT_PHASE] started"
  "$@"
  echo "==> [$CURRENT_PHASE] done in $((SECONDS - start)) s"
}

pip_install() { "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@"; }

stamp_key() {
  cat "$REQ"/*.txt "$REPO/tools/install_env.sh" "$REPO/setup.py" | sha256sum | cut -c1-16
}

create_venv() {
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  pip_install -r "$REQ/build.txt"
}

install_torch() { pip_install -r "$REQ/torch.txt"; }

install_pinned_stack() {
  # xtcocotools' binary wheel is built against numpy 1 and fails under numpy 2: build it here.
  pip_install --no-build-isolation --no-binary xtcocotools \
    -r "$REQ/runtime.txt" -r "$REQ/deid.txt" -r "$REQ/privacy.txt" -r "$REQ/tests.txt" \
    -r "$REQ/torch.txt"
}

build_mmcv_wheel() {
  # mmcv's setup.py hard-codes -std=c++17, but torch >= 2.10 headers need C++20.
  local work; work="$(mktemp -d)"
  "$VENV/bin/python" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
    "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  sed -i 's/-std=c++17/-std=c++20/g' "$work/mmcv-$MMCV_VERSION/setup.py"
  grep -q -- '-std=c++20' "$work/mmcv-$MMCV_VERSION/setup.py"
  # Python's own flags compile with -g -O3: without debug info and at -O1 each file compiles in
  # about 0.6 of the CPU time (docs/install.md); mmcv's ops are not on RDID-GAN's path, and the CPU
  # NMS / RoIAlign that mmdet and mmpose call stay fast at -O1.
  local cflags=(); [ -n "$MMCV_CFLAGS" ] && cflags=(CFLAGS="$MMCV_CFLAGS")
  (cd "$work/mmcv-$MMCV_VERSION" && env "${cflags[@]}" MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$VENV/bin/python" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps \
    -w "$work/dist" .)
  mkdir -p "$MMCV_CACHE"
  local wheel; wheel="$(ls "$work"/dist/mmcv-*.whl)"
  cp "$wheel" "$MMCV_CACHE/.partial" && mv "$MMCV_CACHE/.partial" "$MMCV_CACHE/$(basename "$wheel")"
  rm -rf "$work"
}

install_mmcv() {
  if ! ls "$MMCV_CACHE"/mmcv-*.whl >/dev/null 2>&1; then
    echo "    no cached wheel in $MMCV_CACHE: compiling mmcv $MMCV_VERSION with ops, CFLAGS \"$MMCV_CFLAGS\" (about 10 min on 2 cores)"
    build_mmcv_wheel
  else
    echo "    using cached wheel from $MMCV_CACHE"
  fi
  pip_install --no-deps --force-reinstall "$MMCV_CACHE"/mmcv-*.whl
}

install_mmagic() { pip_install --no-deps "mmagic==$MMAGIC_VERSION"; }

install_rdid_mm() { pip_install --no-deps --no-build-isolation -e "$REPO"; }

check_imports() {
  "$VENV/bin/python" - <<'PY'
import rdid_mm.utils.compat  # noqa: F401  (numpy aliases before mmagic)
import mmengine, mmcv.ops, mmdet.models, mmpose.models, mmagic, mmagic.models, pycocotools, rdid_mm  # noqa
import dlib, face_recognition_models  # noqa  (the privacy audit's face models)
print(f"    imports ok: rdid_mm {rdid_mm.__version__}, mmcv {mmcv.__version__}, mmagic {mmagic.__version__}")
PY
}

echo "rdid_mm environment: $VENV"
KEY="$(stamp_key)"
STAMP="$VENV/.rdid_mm_installed"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ]; then
  echo "==> environment up to date (stamp $KEY); checking imports only"
else
  rm -f "$STAMP"
  phase venv create_venv
  phase torch install_torch
  phase pinned-stack install_pinned_stack
  phase mmcv install_mmcv
  phase mmagic install_mmagic
  phase rdid_mm install_rdid_mm
fi
phase import-check check_imports
echo "$KEY" > "$STAMP"
echo "rdid_mm environment ready: $VENV"
