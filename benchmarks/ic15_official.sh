#!/usr/bin/env bash
# ICDAR 2015 word recognition on the official Task 4.3 crops, beside our own quad crops.
#   IC15=/path/with/ic15 CHECKPOINT=out/ic15/run/best.pt OUT=out/ic15_official \
#       [SUBSET=textrecog_test_1811.json] benchmarks/ic15_official.sh
# IC15 holds WordRecognition/ (TestSet/ and Challenge4_Test_Task3_GT.txt, 2077 words;
# TrainingSet/ with its gt.txt, 4468 words) and, for the quad-crop rows, ch4_test_images and
# Challenge4_Test_Task1_GT. SUBSET (optional): MMOCR's textrecog_test_1811.json, for IC15-1811.
# The manifests are built with --case lower as in ic15_recipe.sh; the training crops are built
# too (for training on official crops), never used here for scoring.
set -euo pipefail
: "${IC15:?set IC15 to the folder holding WordRecognition/ and the Task 1 folders}"
: "${CHECKPOINT:?set CHECKPOINT to a textrec checkpoint (e.g. from ic15_recipe.sh)}"
OUT=${OUT:-out/ic15_official}
T=${TEXTREC:-.venv/bin/textrec}
W="$IC15/WordRecognition"

$T manifest --format wordcrops --gt "$W/Challenge4_Test_Task3_GT.txt" --images "$W/TestSet" \
    --out "$OUT/crops_test" --split test --case lower --overwrite --quiet
$T manifest --format wordcrops --gt "$W/TrainingSet/gt.txt" \
    --out "$OUT/crops_train" --case lower --overwrite --quiet
$T manifest --images "$IC15/ch4_test_images" --gt "$IC15/Challenge4_Test_Task1_GT" \
    --out "$OUT/quads_test" --split test --case lower --overwrite --quiet

$T eval --checkpoint "$CHECKPOINT" --manifest "$OUT/crops_test/manifest.parquet" \
    --out "$OUT/eval_crops" --quiet
$T eval --checkpoint "$CHECKPOINT" --manifest "$OUT/quads_test/manifest.parquet" \
    --out "$OUT/eval_quads" --quiet
if [ -n "${SUBSET:-}" ]; then
    $T eval --checkpoint "$CHECKPOINT" --manifest "$OUT/crops_test/manifest.parquet" \
        --subset "$SUBSET" --out "$OUT/eval_crops_1811" --quiet
fi
