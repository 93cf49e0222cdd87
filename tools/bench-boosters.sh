#!/usr/bin/env bash
# The boosters' overhead benchmark in one run: quakelab's criterion bench, then the official Python
# packages on the identical table, and the ratios (tools/bench_boosters_reference.py).
#
# Usage (from anywhere): tools/bench-boosters.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-boosters.sh
cargo bench --bench boosters
.venv-boosters/bin/python tools/bench_boosters_reference.py
