#!/usr/bin/env bash
# One full-size TabPFN v2 forward (random weights, the official architecture) at 1,000 train x
# 200 test x 50 features, in one run: tools/bench_tabpfn_reference.py saves the random model as an
# official checkpoint into a temporary folder; quakelab's criterion bench (benches/tabpfn.rs)
# loads that file (QUAKELAB_TABPFN_BENCH_CKPT); then the official tabpfn package predicts with the
# same file and data in the deterministic configuration (one estimator, no preprocessing), and the
# ratio; last, quakelab's peak memory for `quakelab decode --decoder tabpfn` on the same data.
#
# Usage (from anywhere): tools/bench-tabpfn.sh [PYTHON]
# PYTHON is a Python with torch 2.9.0, tabpfn 2.2.1, numpy and psutil (default: python3).
# TABPFN_REFERENCE_CONFIGS="deterministic defaults4 defaults8" also times the package's default
# inference configuration with 4 and 8 estimators (minutes each on a small CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
configs=${TABPFN_REFERENCE_CONFIGS:-deterministic}
export TABPFN_DISABLE_TELEMETRY=1

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ckpt="$scratch/tabpfn-v2-random.ckpt"
"$python" tools/bench_tabpfn_reference.py save "$ckpt"

QUAKELAB_TABPFN_BENCH_CKPT="$ckpt" cargo bench --bench tabpfn -- --noplot | tee "$scratch/bench.txt"
# Criterion prints `time:   [low median high]` with units; take the first median, in seconds.
quakelab_s=$({ grep -m 1 'time:' "$scratch/bench.txt" || true; } |
    sed 's/.*time: *\[\([^]]*\)\].*/\1/' | awk '{
        v = $3; u = $4
        f = (u == "s") ? 1 : (u == "ms") ? 1e-3 : (u == "µs" || u == "us") ? 1e-6 : 1e-9
        printf "%.4f", v * f }')

# shellcheck disable=SC2086 # the configurations are separate words
reference=$("$python" tools/bench_tabpfn_reference.py time "$ckpt" $configs)
reference_s=$(echo "$reference" | sed -n 's/.* deterministic: \([0-9.]*\) s per prediction.*/\1/p')

peak=""
cargo build --release --bin quakelab
"$python" tools/bench_tabpfn_reference.py csv "$scratch"
if /usr/bin/time -v target/release/quakelab decode --decoder tabpfn --train "$scratch/train.csv" \
    --test "$scratch/test.csv" --target y --set decoder.weights="$ckpt" \
    --set decoder.n_estimators=1 --set decoder.softmax_temperature=1.0 \
    --set decoder.preprocess=none --set decoder.fingerprint_feature=false \
    --set decoder.feature_shift=none --set decoder.y_transform=none \
    --out "$scratch/p.csv" 2> "$scratch/time.txt" > /dev/null; then
    peak_kib=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$scratch/time.txt")
    peak="quakelab decode --decoder tabpfn (deterministic configuration): peak RSS $((peak_kib / 1024)) MiB"
else
    peak="quakelab decode --decoder tabpfn failed: $(tail -n 3 "$scratch/time.txt")"
fi

echo
echo "quakelab (burn, CPU): ${quakelab_s:-?} s per forward (criterion median)"
echo "$reference"
if [ -n "$quakelab_s" ] && [ -n "$reference_s" ]; then
    "$python" -c "import sys; print(f'speed-up of quakelab over tabpfn (deterministic, one forward): {float(sys.argv[2]) / float(sys.argv[1]):.2f}x')" "$quakelab_s" "$reference_s"
fi
echo "$peak"
