#!/usr/bin/env bash
# Pretrains quakelab-pfn-s on one GPU inside a fixed wall-clock budget: how the shipped
# models/quakelab-pfn-s.safetensors was made (paper/pfn/README.md gives the lease it ran on).
#
#   tools/pretrain-pfn-gpu.sh QUAKELAB DEVICE BUDGET_SECONDS OUT_DIR
#
# QUAKELAB is a binary built with `cargo build --release --features DEVICE` (or that binary
# compressed with xz, QUAKELAB.xz), DEVICE `vulkan` or `cuda`. For Vulkan on a machine without
# a Vulkan loader, put Debian's libvulkan1 and libglvnd .deb files in .gl/: they are unpacked
# first. The script
#   1. times 30-step runs of experiments/pfn/quakelab-pfn-s.toml at 16, 64 and 128 tasks a
#      batch (OUT_DIR/throughput.csv: the GPU's tasks/s, tokens/s and s/step once warm), and
#      stops there when BUDGET_SECONDS is 0;
#   2. takes the largest batch that still leaves at least MIN_STEPS steps inside what is left
#      of the budget (16 when none does), and the most steps, a multiple of 100, that end
#      inside it;
#   3. writes experiments/pfn/quakelab-pfn-s.toml with those steps, that batch and a schedule
#      over those steps as OUT_DIR/quakelab-pfn-s.toml, and runs the documented command
#      `quakelab pfn pretrain OUT_DIR/quakelab-pfn-s.toml --device DEVICE`;
#   4. copies the network, its curve and the run's records into OUT_DIR.
# Everything it prints also goes to OUT_DIR/log.txt. BASE, BATCHES and MIN_STEPS override the
# file, the batch sizes timed and the fewest steps a larger batch must leave.
set -euo pipefail

if [[ $# -ne 4 ]]; then
    sed -n 2,21p "$0"
    exit 2
fi
bin=$1
device=$2
budget=$3
out=$4
min_steps=${MIN_STEPS:-2500}
began=$(date +%s)
mkdir -p "$out"
tmp=$(mktemp -d)
exec > >(tee -a "$out/log.txt") 2>&1

if [[ $bin == *.xz ]]; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
        "$bin" "$tmp"/quakelab
    chmod +x "$tmp"/quakelab
    bin="$tmp"/quakelab
fi

# burn's CUDA backend loads the driver and NVRTC at run time; its Vulkan backend the Vulkan
# loader, which finds NVIDIA's driver through its ICD file.
if ! ldconfig -p | grep -q libvulkan.so.1 && compgen -G '.gl/*.deb' >/dev/null; then
    for deb in .gl/*.deb; do dpkg -x "$deb" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -f $icd && -z ${VK_DRIVER_FILES:-} ]]; then
    export VK_DRIVER_FILES=$icd
fi
for dir in /usr/local/nvidia/lib64 /usr/local/cuda/lib64 \
    $(find /usr/local /opt /usr/lib -name 'libnvrtc.so*' -printf '%h\n' 2>/dev/null | sort -u); do
    [[ -d $dir ]] && LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
done
export LD_LIBRARY_PATH
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$bin" --version

base=${BASE:-experiments/pfn/quakelab-pfn-s.toml}
# The file with `key = value` set in its [pfn.pretrain] and [pfn.optim] lines.
variant() { # steps batch warmup checkpoint_every border_batches log_every
    sed -e "s/^steps = .*/steps = $1/" \
        -e "s/^batch_tasks = .*/batch_tasks = $2/" \
        -e "s/^checkpoint_every = .*/checkpoint_every = $4/" \
        -e "s/^border_batches = .*/border_batches = $5/" \
        -e "s/^log_every = .*/log_every = $6/" \
        -e "s/^device = .*/device = \"$device\"/" \
        -e "s/warmup_steps = [0-9]*, total_steps = [0-9]*/warmup_steps = $3, total_steps = $1/" \
        "$base"
}

echo "batch_tasks,tasks_per_second,tokens_per_second,seconds_per_step,start_seconds" >"$out/throughput.csv"
for batch in ${BATCHES:-16 64 128}; do
    variant 30 "$batch" 10 30 $((1024 / batch)) 10 >"$tmp"/calibrate.toml
    t0=$(date +%s.%N)
    "$bin" pfn pretrain "$tmp"/calibrate.toml --out "$tmp/calibrate-$batch" >/dev/null
    t1=$(date +%s.%N)
    metrics=$(echo "$tmp"/calibrate-"$batch"/quakelab-pfn-s/*/metrics.csv)
    # The window of steps 20-29, once the kernels are compiled.
    python3 - "$metrics" "$batch" "$t0" "$t1" >>"$out/throughput.csv" <<'EOF'
import csv, sys
rows = {(r["key"], int(r["step"])): float(r["value"]) for r in csv.DictReader(open(sys.argv[1]))}
sps = rows[("seconds_per_step", 29)]
start = float(sys.argv[4]) - float(sys.argv[3]) - 30 * sps
print(f'{sys.argv[2]},{rows[("tasks_per_second", 29)]:.1f},{rows[("tokens_per_second", 29)]:.0f},{sps:.4f},{start:.1f}')
EOF
done
cat "$out/throughput.csv"
if ((budget == 0)); then
    exit 0
fi

left=$((budget - ($(date +%s) - began)))
read -r batch steps < <(python3 - "$out/throughput.csv" "$left" "$min_steps" <<'EOF'
import csv, sys
left, min_steps = float(sys.argv[2]), int(sys.argv[3])
choice = None
for r in csv.DictReader(open(sys.argv[1])):
    # 90 % of what is left after start-up and a final write, in whole hundreds of steps.
    steps = int(0.9 * (left - float(r["start_seconds"]) - 15) / float(r["seconds_per_step"])) // 100 * 100
    if choice is None or steps >= min_steps:
        choice = (r["batch_tasks"], steps)
print(*choice)
EOF
)
if ((steps < 100)); then
    echo "only $left s left: too little for a run" >&2
    exit 1
fi
warmup=$((steps / 20))
# The borders are fitted on 1,024 prior tasks whatever the batch (64 batches of 16).
variant "$steps" "$batch" "$warmup" $((steps / 4)) $((1024 / batch)) 50 >"$out/quakelab-pfn-s.toml"
echo "training $steps steps of $batch tasks (warmup $warmup) in the $left s left"
status=0
timeout $((left - 5)) "$bin" pfn pretrain "$out/quakelab-pfn-s.toml" --out "$tmp"/pretrain || status=$?
run=$(echo "$tmp"/pretrain/quakelab-pfn-s/*)
cp "$run"/metrics.csv "$out"/
if ((status != 0)); then
    # Stopped early: keep the last checkpoint, from which `--resume` continues.
    latest=$(cat "$run"/checkpoints/latest)
    cp "$run/checkpoints/$latest" "$out"/ || true
    echo "pretraining stopped (exit $status) after $(($(date +%s) - began)) s"
    exit "$status"
fi
cp "$run"/quakelab-pfn-s.safetensors "$run"/train_loss.csv "$run"/train_loss.png "$out"/
echo "done in $(($(date +%s) - began)) s"
