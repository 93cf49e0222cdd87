#!/usr/bin/env bash
# ViT-B/16 throughput in one run: quakelab's criterion bench (benches/vit.rs, burn-flex on the
# CPU), then Hugging Face transformers on the same batch (tools/bench_vit_reference.py), then the
# ratio; and quakelab's peak memory for `quakelab encode vit --model random` on 8 images.
#
# Usage (from anywhere): tools/bench-vit.sh [PYTHON]
# PYTHON is a Python with torch 2.9.0, transformers 4.57.6 and numpy (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}

cargo bench --bench vit -- --noplot
cargo build --release --bin quakelab
estimates=target/criterion/vit/b16_224_mean_batch8/new/estimates.json
quakelab_ips=$("$python" -c "import json,sys; e=json.load(open(sys.argv[1])); print(f'{8e9 / e[\"median\"][\"point_estimate\"]:.3f}')" "$estimates")

reference=$("$python" tools/bench_vit_reference.py)
reference_ips=$(echo "$reference" | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p')

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$python" -c "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(0).uniform(-1, 1, (8, 3, 224, 224)).astype(np.float32))" "$scratch/pixels.npy"
/usr/bin/time -v target/release/quakelab encode vit --model random --pixels "$scratch/pixels.npy" \
    --batch-size 8 --output mean --out "$scratch/out.npy" 2> "$scratch/time.txt" > /dev/null
peak_kib=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$scratch/time.txt")

echo
echo "quakelab (burn-flex, CPU): $quakelab_ips images/s (criterion median, batch 8)"
echo "$reference"
"$python" -c "import sys; print(f'ratio quakelab / transformers: {float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$quakelab_ips" "$reference_ips"
echo "quakelab encode vit --model random, 8 images: peak RSS $((peak_kib / 1024)) MiB (includes the random initialisation)"
