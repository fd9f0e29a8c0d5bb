#!/usr/bin/env bash
# The ICDAR 2015 recipe of docs/RESULTS.md (configs/ic15_synth_quads.toml), end to end:
# manifests, synthetic data, training, evaluation.
#   IC15=/path/with/the/four/ic15/folders OUT=out/ic15 benchmarks/ic15_recipe.sh
# IC15 must hold ch4_training_images, ch4_training_localization_transcription_gt,
# ch4_test_images and Challenge4_Test_Task1_GT. LEXICONS (optional) is a folder with
# GenericVocabulary.txt and ch4_test_vocabulary.txt for the lexicon rows.
set -euo pipefail
: "${IC15:?set IC15 to the folder holding the ICDAR 2015 folders}"
OUT=${OUT:-out/ic15}
T=${TEXTREC:-.venv/bin/textrec}

# Lower-case labels: the alphanumeric protocol ignores case, and 26 fewer classes train faster.
$T manifest --images "$IC15/ch4_training_images" --gt "$IC15/ch4_training_localization_transcription_gt" \
    --out "$OUT/train" --case lower --overwrite --quiet
$T manifest --images "$IC15/ch4_test_images" --gt "$IC15/Challenge4_Test_Task1_GT" \
    --out "$OUT/test" --split test --case lower --overwrite --quiet

# Synthetic words in the IC15 charset (others are rejected as out_of_charset), all in train.
for part in "a 6269 7" "b 2000 8"; do
    set -- $part
    [ -d "$OUT/synth_$1/gt" ] || $T synth --out "$OUT/synth_$1" --images "$2" --seed "$3"
    $T manifest --images "$OUT/synth_$1/images" --gt "$OUT/synth_$1/gt" --out "$OUT/synth_$1_manifest" \
        --case lower --charset "$OUT/train/vocab.json" --split train --overwrite --quiet
done

# crnn-small, synthetic + real mixed, the real words given 4 times (about a quarter of each epoch).
R="$OUT/train/manifest.parquet"
$T train --manifest "$OUT/synth_a_manifest/manifest.parquet" --manifest "$OUT/synth_b_manifest/manifest.parquet" \
    --manifest "$R" --manifest "$R" --manifest "$R" --manifest "$R" \
    --config "$(dirname "$0")/../configs/ic15_synth_quads.toml" --out "$OUT/run" --quiet

$T eval --checkpoint "$OUT/run/best.pt" --manifest "$OUT/test/manifest.parquet" --out "$OUT/eval_greedy" --quiet
$T eval --checkpoint "$OUT/run/best.pt" --manifest "$OUT/test/manifest.parquet" --out "$OUT/eval_beam" \
    --decoder beam --quiet
if [ -n "${LEXICONS:-}" ]; then
    $T eval --checkpoint "$OUT/run/best.pt" --manifest "$OUT/test/manifest.parquet" --out "$OUT/eval_lexicon_test" \
        --lexicon "$LEXICONS/ch4_test_vocabulary.txt" --quiet
    $T eval --checkpoint "$OUT/run/best.pt" --manifest "$OUT/test/manifest.parquet" --out "$OUT/eval_lexicon_generic" \
        --lexicon "$LEXICONS/GenericVocabulary.txt" --quiet
fi
