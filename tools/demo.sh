#!/usr/bin/env bash
# The main job on the embedded default, the real COCO sample beside the checkout
# (../shared/data/coco_person_sample; override with RDID_SAMPLE):
#   1. de-identify it (CenterFace + COCO-keypoint face boxes, strengths 8 and 16),
#   2. train a tiny RDID-GAN for a few iterations through MMEngine's Runner,
#   3. restore the images with the trained weights file (tools/test.py, face-region PSNR/SSIM),
#   4. score GT / Mosaic / RDID-GAN rows with Keypoint R-CNN (Table 1's command).
# On a machine without the detector's COCO weights the AP is that of a randomly initialised
# detector: the demo then shows the pipeline runs, not the paper's numbers.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RDID_VENV:-$REPO/.venv}"
SAMPLE="${RDID_SAMPLE:-$REPO/../shared/data/coco_person_sample}"
OUT="${RDID_DEMO_DIR:-$REPO/work_dirs/demo}"
DETECTOR_WEIGHTS="${RDID_DETECTOR_WEIGHTS:-none}"
CONFIG="$REPO/configs/rdid_gan/rdid-gan_resnet-cbam-tiny_1xb2-4i_deid-sample.py"

bash "$REPO/tools/install_env.sh"
PY="$VENV/bin/python"
cd "$REPO"
step() { echo; echo "==== demo: $* ===="; }

step "1/4 de-identify $SAMPLE"
"$PY" tools/build_deid_dataset.py --ann-file "$SAMPLE/annotations/test_coco.json" \
  --img-dir "$SAMPLE/val2017" --out "$OUT/deid/val2017" --strengths 8 16 \
  --face-source centerface coco_keypoints

DATA="$OUT/deid/val2017"
OPTIONS=(train_dataloader.dataset.data_root="$DATA" val_dataloader.dataset.data_root="$DATA"
         test_dataloader.dataset.data_root="$DATA")

step "2/4 train a tiny RDID-GAN (4 iterations, CPU)"
"$PY" tools/train.py "$CONFIG" --work-dir "$OUT/train" --cfg-options "${OPTIONS[@]}"

step "3/4 restore with the weights file and score the face regions"
"$PY" tools/test.py "$CONFIG" "$OUT/train/iter_4.safetensors" --work-dir "$OUT/test" \
  --cfg-options "${OPTIONS[@]}"

step "4/4 Table 1 rows: GT, Mosaic (s8, s16), RDID-GAN (detector weights: $DETECTOR_WEIGHTS)"
"$PY" tools/eval_table.py "$DATA" --out-dir "$OUT/table" --detector-weights "$DETECTOR_WEIGHTS" \
  --min-size 400 --max-size 667 --bootstrap 200 \
  --model RDID-GAN-tiny "$CONFIG" "$OUT/train/iter_4.safetensors"

echo
echo "demo finished: de-identified data in $OUT/deid, training in $OUT/train, table in $OUT/table"
