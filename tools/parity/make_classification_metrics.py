"""Reference values of quakelab's classification metrics (src/eval/classification.rs) from
scikit-learn.

Writes tests/fixtures/classification/metrics.json: for a few pairs of label vectors over five
classes (one with a class never predicted, one with a class never true, one with a class
neither true nor predicted, and the paper's Table 5 matrix expanded into rows), scikit-learn's

  confusion_matrix(truth, predicted, labels=range(5))
  precision_score(truth, predicted, labels=range(5), average=None, zero_division=nan)
  recall_score(truth, predicted, labels=range(5), average=None, zero_division=nan)
  f1_score(truth, predicted, average="macro", zero_division=0)
  balanced_accuracy_score(truth, predicted)
  accuracy_score(truth, predicted)

`nan` (undefined: nothing predicted as the class, or no row truly of it) is written as null.
The macro-F1 uses labels=None, i.e. the classes present in the truth or the predictions.

Run from the repository root with a Python that has numpy and scikit-learn 1.6 (for instance
a venv made with `pip install torch==2.9.0 tabpfn==2.2.1 safetensors numpy`, which brings
scikit-learn):

  python tools/parity/make_classification_metrics.py
"""

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "classification"
LABELS = list(range(5))

# The paper's Table 5 (truth rows, predicted columns).
TABLE5 = [
    [115, 3, 4, 1, 3],
    [8, 81, 8, 4, 1],
    [7, 2, 14, 1, 4],
    [6, 8, 3, 26, 1],
    [3, 0, 5, 1, 21],
]


def expand(matrix):
    truth, predicted = [], []
    for t, row in enumerate(matrix):
        for p, count in enumerate(row):
            truth += [t] * count
            predicted += [p] * count
    return truth, predicted


def nan_to_none(values):
    return [None if np.isnan(v) else float(v) for v in values]


def case(name, truth, predicted):
    return {
        "name": name,
        "truth": [int(v) for v in truth],
        "predicted": [int(v) for v in predicted],
        "confusion": confusion_matrix(truth, predicted, labels=LABELS).tolist(),
        "precision": nan_to_none(
            precision_score(truth, predicted, labels=LABELS, average=None, zero_division=np.nan)
        ),
        "recall": nan_to_none(
            recall_score(truth, predicted, labels=LABELS, average=None, zero_division=np.nan)
        ),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(truth, predicted)),
        "accuracy": float(accuracy_score(truth, predicted)),
    }


def main():
    rng = np.random.default_rng(17)
    cases = []
    truth = rng.integers(0, 5, 60)
    predicted = np.where(rng.random(60) < 0.6, truth, rng.integers(0, 5, 60))
    cases.append(case("random_all_classes", truth, predicted))
    # Class 3 is never predicted.
    truth = rng.integers(0, 5, 40)
    predicted = np.where(rng.random(40) < 0.5, truth, rng.integers(0, 5, 40))
    predicted = np.where(predicted == 3, 0, predicted)
    cases.append(case("class_3_never_predicted", truth, predicted))
    # Class 4 is never true; class 1 is neither true nor predicted.
    truth = rng.choice([0, 2, 3], 30)
    predicted = np.where(rng.random(30) < 0.5, truth, rng.choice([0, 2, 3, 4], 30))
    cases.append(case("class_4_never_true_class_1_absent", truth, predicted))
    truth, predicted = expand(TABLE5)
    cases.append(case("paper_table_5", truth, predicted))
    OUT.mkdir(parents=True, exist_ok=True)
    document = {"sklearn": sklearn.__version__, "n_classes": 5, "cases": cases}
    (OUT / "metrics.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
