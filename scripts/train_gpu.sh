#!/usr/bin/env bash
# Both training stages on one GPU inside a fixed time budget (a lent GPU): each stage's learning-rate cosine follows
# its time budget, so the run ends annealed whatever the throughput. Usage:
#   scripts/train_gpu.sh DATA_ROOT RUN_DIR        (DATA_ROOT holds rgbdd_train/ and middlebury_train/)
# Environment: M1, M2 minutes of stage 1 / 2 (4.5 / 3.5), BATCH (64), WORKERS (14), INIT (warm start, the shipped
# weights; "none": from scratch), MODEL (stage-1 model options, e.g. "--refine-ch 16 --refine-feat 8"), AFTER1 (a
# command run between the stages, e.g. to copy stage 1 somewhere safe).
set -euo pipefail
DATA=${1:?data root}; RUN=${2:?run folder}
M1=${M1:-4.5}; M2=${M2:-3.5}; BATCH=${BATCH:-64}; W=${WORKERS:-14}
INIT=${INIT:-dsr_diff_ros/weights/dsr_diff_default.safetensors}
PY=${PYTHON:-python3}
common=(--out "$RUN" --data-root "$DATA" --batch "$BATCH" --iters 1000000 --time-schedule --workers "$W"
        --val-every 1000 --ckpt-every 2000)
warm=(); [ "$INIT" != none ] && warm=(--init-dsrn "$INIT")
# shellcheck disable=SC2086  # MODEL is a list of options
$PY -m dsr_diff_ros.cli.train --stage 1 "${common[@]}" --lr 4e-4 --max-minutes "$M1" "${warm[@]}" ${MODEL:-}
if [ -n "${AFTER1:-}" ]; then eval "$AFTER1"; fi
$PY -m dsr_diff_ros.cli.train --stage 2 "${common[@]}" --lr 4e-4 --max-minutes "$M2" --grn-warmup 1500 --ema 0.998
