#!/usr/bin/env bash
# The whole commands whose time is mostly reading, in one run: `quakelab features seismicity` on a
# ComCat CSV of about 97,000 events over 15 years, and `quakelab gnss grid` on 300 tenv3 files of
# 730 days (50 x 50 grid), each the best of N wall times, then the Python reference
# (tools/bench_readers_reference.py: pandas to read, numpy to compute) on the same files, and the
# ratios.
#
# The inputs are made first with quakelab's simulators into WORK (default: a new temporary
# directory, removed at the end): the Japan scenario with m_min 2.5 (and its background rate
# raised to match) for the catalog, and its 300-station network over 2009-2010 for the tenv3 files.
#
# Usage (from anywhere): tools/bench-readers.sh [PYTHON] [QUAKELAB] [N]
# PYTHON has numpy and pandas (default: python3); QUAKELAB is the binary to time (default: this
# checkout's target/release/quakelab, built first); N runs per command (default: 5).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
quakelab=${2:-}
runs=${3:-5}

if [[ -z "$quakelab" ]]; then
    cargo build --release --bin quakelab
    quakelab=target/release/quakelab
fi
work=${WORK:-$(mktemp -d)}
if [[ -z "${WORK:-}" ]]; then
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

scenario="$work/japan-m2.5.toml"
sed -e 's/^m_min = 3.0$/m_min = 2.5/' -e 's/^mu = 2.5$/mu = 8.9/' experiments/scenarios/japan.toml >"$scenario"
if ! grep -q '^m_min = 2.5$' "$scenario" || ! grep -q '^mu = 8.9$' "$scenario"; then
    echo "experiments/scenarios/japan.toml no longer has m_min = 3.0 and mu = 2.5; update $0" >&2
    exit 1
fi
"$quakelab" synth catalog --scenario "$scenario" --years 2009:2024 --out "$work/cat" >/dev/null
"$quakelab" synth gnss --catalog "$work/cat/catalog.csv" --start 2009-01-01 --end 2011-01-01 \
    --out "$work/tenv3" >/dev/null
events=$(($(wc -l <"$work/cat/catalog.csv") - 1))
echo "inputs: $events events in $(du -h "$work/cat/catalog.csv" | cut -f1) of ComCat CSV;" \
    "$(ls "$work/tenv3"/*.tenv3 | wc -l) tenv3 files of 730 days in $(du -sh "$work/tenv3" | cut -f1)"

# The best wall time of N runs of a command, in seconds.
best_of() {
    local best="" start end seconds
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        seconds=$(echo "scale=4; ($end - $start) / 1000000000" | bc)
        if [[ -z "$best" ]] || (($(echo "$seconds < $best" | bc))); then
            best=$seconds
        fi
    done
    echo "$best"
}

seismicity=$(best_of "$quakelab" features seismicity --catalog "$work/cat/catalog.csv" \
    --start 2009-01-01 --end 2024-01-01 --mc 3.0 --window-days 128 --step-days 1 \
    --out "$work/ba.csv")
grid=$(best_of "$quakelab" gnss grid --tenv3 "$work/tenv3" --start 2009-01-01 --end 2011-01-01 \
    --region 123,148,22,46 --grid 50x50 --sigma-cells 8 --out "$work/images.npy")
echo "quakelab features seismicity: best $seismicity s of $runs"
echo "quakelab gnss grid: best $grid s of $runs"

reference=$("$python" tools/bench_readers_reference.py "$work/cat/catalog.csv" "$work/tenv3" \
    2009-01-01 2024-01-01 "$runs")
echo "$reference"
py_seismicity=$(echo "$reference" | sed -n 's/^seismicity: best \([0-9.]*\) s.*/\1/p')
py_grid=$(echo "$reference" | sed -n 's/^gnss grid: best \([0-9.]*\) s.*/\1/p')
py_grid_paper=$(echo "$reference" | sed -n "s/^gnss grid, paper's per-day form: best \([0-9.]*\) s.*/\1/p")
echo "ratio python / quakelab, features seismicity: $(echo "scale=1; $py_seismicity / $seismicity" | bc)x"
echo "ratio python / quakelab, gnss grid: $(echo "scale=1; $py_grid / $grid" | bc)x"
echo "ratio python (paper's per-day form) / quakelab, gnss grid: $(echo "scale=1; $py_grid_paper / $grid" | bc)x"
