#!/usr/bin/env bash
# Installs XGBoost, LightGBM and CatBoost, the libraries behind the decoders of the same names.
#
# Creates the virtual environment `.venv-boosters` in the repository root (git-ignored) and
# installs the official wheels pinned in tools/boosters/requirements.txt into it (about 650 MB,
# 20 to 60 s). quakelab then loads `libxgboost.so` and `lib_lightgbm.so` from the wheels at run
# time, and trains CatBoost in a worker process on the venv's Python (README, "Decoders").
# Idempotent: a venv installed from the same requirements is left as it is.
#
# build.rs runs this script when the venv is missing, so `cargo build` on a fresh machine with
# PyPI in reach installs everything; offline, the build goes on and the decoders say how to
# install the libraries when they are used.
#
# Usage (from anywhere): tools/install-boosters.sh
# Environment: PYTHON (default python3) picks the interpreter that creates the venv;
# QUAKELAB_BOOSTERS installs into that directory instead of .venv-boosters.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${QUAKELAB_BOOSTERS:-.venv-boosters}"
python="${PYTHON:-python3}"
requirements="tools/boosters/requirements.txt"
stamp="$venv/.quakelab-requirements"

# One install at a time (cargo may run build.rs for two profiles at once).
exec 9>"$venv.lock"
flock 9

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
    echo "install-boosters: $venv already has the pinned libraries; nothing to do"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "install-boosters: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

echo "install-boosters: pip install xgboost-cpu, lightgbm, catboost into $venv (about 650 MB)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --requirement "$requirements"
"$venv/bin/python" -c "import xgboost, lightgbm, catboost"
cp "$requirements" "$stamp"
echo "install-boosters: installed into $venv"
