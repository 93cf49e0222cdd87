#!/usr/bin/env bash
# Installs the MLflow tracking server that the integration test in tests/it/track.rs starts.
#
# Creates the virtual environment `.venv-mlflow` in the repository root (git-ignored) and installs
# the full `mlflow` package into it: `mlflow-skinny` lists `mlflow server` but cannot run it (no
# Flask). Idempotent: a venv whose `mlflow` already runs is left as it is.
#
# Usage (from anywhere): tools/install-mlflow.sh
# Environment: PYTHON (default python3) picks the interpreter that creates the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=".venv-mlflow"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/mlflow" ] && "$venv/bin/python" -c "import mlflow, flask" >/dev/null 2>&1; then
    echo "install-mlflow: $venv already has $("$venv/bin/mlflow" --version); nothing to do"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "install-mlflow: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

echo "install-mlflow: pip install mlflow into $venv (about 850 MB, a minute or two)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==3.17.2"

echo "install-mlflow: installed $("$venv/bin/mlflow" --version)"
