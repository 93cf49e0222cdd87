#!/usr/bin/env bash
# VGG-12 training throughput in one run: quakelab's criterion bench (benches/vgg12.rs, one Adam
# step on a batch of 16 one-channel images with burn-flex on the CPU, at 64 x 64 and 480 x 480),
# then the same network and step in PyTorch (tools/bench_vgg12_reference.py, 2 threads), then
# the ratio per size.
#
# Usage (from anywhere): tools/bench-vgg12.sh [PYTHON]
# PYTHON is a Python with torch 2.9.0 (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}

cargo bench --bench vgg12 -- --noplot
reference=$("$python" tools/bench_vgg12_reference.py 64 480)

echo
for side in 64 480; do
    estimates=target/criterion/vgg12/train_step_${side}_batch16/new/estimates.json
    quakelab_ips=$("$python" -c "import json,sys; e=json.load(open(sys.argv[1])); print(f'{16e9 / e[\"median\"][\"point_estimate\"]:.3f}')" "$estimates")
    line=$(echo "$reference" | grep " ${side}x${side}:")
    reference_ips=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p')
    echo "quakelab (burn-flex, CPU) VGG-12 ${side}x${side}: $quakelab_ips images/s (criterion median, one training step of 16)"
    echo "$line"
    "$python" -c "import sys; print(f'ratio quakelab / pytorch at {sys.argv[3]}x{sys.argv[3]}: {float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$quakelab_ips" "$reference_ips" "$side"
done
