#!/usr/bin/env bash
# Train several experts side by side on one lent GPU inside a fixed time budget (this small model's GPU step is
# bound by kernel launches, so several processes share one GPU at little cost each). Each run's learning-rate
# cosine follows the budget, so it ends annealed whatever the throughput. Usage:
#   scripts/train_gpu_experts.sh DATA_ROOT RUN_DIR        (DATA_ROOT holds rgbdd_train/ and middlebury_train/,
#   tune scenes included: the trainer validates on them and stops at once without; the twelfth session's first
#   call lost its runs that way)
# Environment: MIN (minutes per run, 7), BATCH (64), PATCH (crop size, 256: the fourteenth session's CPU runs
# gained 2-8 % over the 128 px crops every earlier run used; at batch 64 that is 4x the pixels per step), WORKERS (data workers per run, 5), LR (2e-4), EXTRA (options
# added to every run, e.g. "--mix p_dihedral=0.5" as the twelfth session's lease ran), RUNS (which
# runs; default "x4_texture x8 x16"; the third lease ran "x4_refine x4 x8"), TAR (write the runs'
# weights, JSONs, logs and outputs into this one .tgz: the device tool returns only a handful of files per call,
# and the eighth session's lease lost its first call's weights that way). Runs (stage 2, each from a shipped expert; the clean bands
# with the robust mix of docs/model.md, the sensor expert with the default mix):
#   x4_refine      clean_x4 grown by the full-resolution refinement (16 channels reading 8 of DSRN's features;
#                  refused with a clear error once clean_x4 has one, as it has since the third lease)
#   x4             clean_x4 as it is (a control: what the larger batch alone gives)
#   x4_texture     clean_x4 with 30 % of the colour carrying pasted texture that no depth explains
#   x8, x8_refine  clean_x8 as it is / grown like x4_refine
#   sensor_refine  the sensor expert grown like x4_refine, 30 % pasted texture
#   sensor         the sensor expert (dsr_diff_default) as it is, default mix
#   holes          the holes expert as it is, on sensor degradations only (its recipe: docs/model.md, cpu39)
#   x16, x16_refine  clean_x16 (band 11.3-17) as it is / grown like x4_refine
# (every *_refine run is refused once its expert has the refinement: since the eighth session all three clean
# bands have it; the eighth session's lease also continued two CPU candidates at lr 1e-4: flat at x4 and x8, and
# sensor_refine was flat too; logs docs/training/gpu6_*)
set -uo pipefail
DATA=${1:?data root}; RUN=${2:?run folder}
MIN=${MIN:-7}; BATCH=${BATCH:-64}; W=${WORKERS:-5}; LR=${LR:-2e-4}; PATCH=${PATCH:-256}
PY=${PYTHON:-python3}
W_DIR=dsr_diff_ros/weights
robust=(--mix p_bicubic=0.75 --mix p_noisy_bicubic=0.1 --mix p_fill=1 --mix p_colour_bicubic=0.15)
common=(--stage 2 --data-root "$DATA" --batch "$BATCH" --patch "$PATCH" --iters 1000000 --time-schedule --max-minutes "$MIN"
        --workers "$W" --threads 2 --lr "$LR" --val-every 1000 --ckpt-every 1000 ${EXTRA:-})
mkdir -p "$RUN"
train() {  # name, then the run's own options
    local name=$1; shift
    $PY -m dsr_diff_ros.cli.train --out "$RUN/$name" "${common[@]}" "$@" >"$RUN/$name.out" 2>&1 &
}
x4=(--mix p_x4=0.5 --mix scale_range=2:5.66 "${robust[@]}"); x8=(--mix p_x4=0 --mix scale_range=5.5:11.6 "${robust[@]}")
x16=(--mix p_x4=0 --mix scale_range=11.3:17 "${robust[@]}")
grow=(--grow refine_ch=16 --grow refine_feat=8)
for name in ${RUNS:-x4_texture x8 x16}; do
    case $name in
        x4_refine) train "$name" --init "$W_DIR/dsr_diff_clean_x4" "${x4[@]}" "${grow[@]}" ;;
        x4) train "$name" --init "$W_DIR/dsr_diff_clean_x4" "${x4[@]}" ;;
        x4_texture) train "$name" --init "$W_DIR/dsr_diff_clean_x4" "${x4[@]}" --mix p_texture=0.3 ;;
        x8) train "$name" --init "$W_DIR/dsr_diff_clean_x8" "${x8[@]}" ;;
        x8_refine) train "$name" --init "$W_DIR/dsr_diff_clean_x8" "${x8[@]}" "${grow[@]}" ;;
        x16) train "$name" --init "$W_DIR/dsr_diff_clean_x16" "${x16[@]}" ;;
        x16_refine) train "$name" --init "$W_DIR/dsr_diff_clean_x16" "${x16[@]}" "${grow[@]}" ;;
        sensor) train "$name" --init "$W_DIR/dsr_diff_default" ;;
        holes) train "$name" --init "$W_DIR/dsr_diff_sensor_holes" --mix p_bicubic=0 --mix p_noisy_bicubic=0 ;;
        sensor_refine) train "$name" --init "$W_DIR/dsr_diff_default" "${grow[@]}" --mix p_texture=0.3 ;;
        *) echo "unknown run: $name" >&2; exit 2 ;;
    esac
done
fails=0
for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
for f in "$RUN"/*.out; do echo "== $f"; tr '\r' '\n' <"$f" | grep -a "val RMSE\|Error\|error" | tail -n 4; done
if [ -n "${TAR:-}" ]; then
    (cd "$RUN" && tar czf "$TAR" --ignore-failed-read ./*.out ./*/stage2.json ./*/stage2.safetensors \
        ./*/state_stage2.json ./*/log_stage2.csv 2>/dev/null) || echo "tar: some files missing" >&2
fi
exit "$fails"
