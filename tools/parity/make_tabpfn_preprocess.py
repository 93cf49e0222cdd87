"""TabPFN preprocessing parity fixtures (tests/fixtures/tabpfn_preprocess/), made by the official
tabpfn 2.2.1 package's own classes (and the scikit-learn 1.6.1 / scipy classes they wrap).

Cases (all float64, saved as .npy; scalars in `scalars.json`):

- `small_*`: 30 train x 5 columns (+ 10 test rows): a normal column with one NaN, a
  near-constant column (a few rows differ by 1e-3), a skewed (log-normal) column, a column of
  integers 0..9 (many ties) and an exactly constant column (dropped by RemoveConstantFeatures).
  The test rows hold values outside the train range, a NaN and values equal to train quantiles.
  * `small_quantile_{train,test}`: AdaptiveQuantileTransformer(uniform, n_quantiles =
    max(n // 5, 2)) on the non-constant columns.
  * `small_pipeline_{quantile_svd,power}_{train,test}`: the package's whole member pipeline
    (EnsembleConfig.to_pipeline: RemoveConstantFeatures -> ReshapeFeatureDistributions ->
    EncodeCategoricalFeatures) for the two default regressor configurations, without the
    fingerprint and without the feature shift (both random).
  * `power_lambdas` in scalars.json: the Yeo-Johnson lambdas of the power pipeline.
- `target_*`: standardised log-normal targets (a negative lambda), the package's `safepower`
  target transform (REGRESSION_Y_PREPROCESS_TRANSFORMS = ["safepower"]) forward on them, and its
  inverse on a grid of values (those outside the transform's range give NaN).
- `fingerprint_*`: AddFingerprintFeaturesStep with a fixed salt on rows with duplicates (the
  collision re-hash) and on test rows; `fingerprint_hash` in scalars.json: Python's hashlib on
  one row, by hand.
- `cat_*`: 150 train x 4 columns (+ 8 test rows) where columns 1 and 3 have fewer than 4
  distinct values: the regressor's categorical inference and ordinal encoding (`cat_encoded_*`,
  categorical columns moved to the front, unseen test values -> -1), then the member pipelines on
  the encoded data with the categorical columns passed through (categorical_name "none"), given
  the positions inferred on the raw columns, as the regressor passes them.

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 tabpfn==2.2.1
safetensors numpy. Run: TABPFN_DISABLE_TELEMETRY=1 venv/bin/python tools/parity/make_tabpfn_preprocess.py
"""

import hashlib
import json
import pathlib

import numpy as np
from tabpfn.preprocessing import PreprocessorConfig, RegressorEnsembleConfig
from tabpfn.preprocessors.adaptive_quantile_transformer import AdaptiveQuantileTransformer
from tabpfn.preprocessors.add_fingerprint_features_step import AddFingerprintFeaturesStep
from tabpfn.preprocessors.reshape_feature_distribution_step import (
    get_all_reshape_feature_distribution_preprocessors,
)
from tabpfn.utils import (
    fix_dtypes,
    get_ordinal_encoder,
    infer_categorical_features,
    process_text_na_dataframe,
)

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tabpfn_preprocess"

QUANTILE_SVD = PreprocessorConfig(
    "quantile_uni",
    append_original="auto",
    categorical_name="ordinal_very_common_categories_shuffled",
    global_transformer_name="svd",
)
POWER = PreprocessorConfig("safepower", categorical_name="onehot")


def save(name, array):
    np.save(OUT / f"{name}.npy", np.ascontiguousarray(array, dtype=np.float64))


def member_pipeline(config, x_train, x_test, cat_ix):
    ensemble = RegressorEnsembleConfig(
        preprocess_config=config,
        add_fingerprint_feature=False,
        polynomial_features="no",
        feature_shift_count=0,
        feature_shift_decoder=None,
        subsample_ix=None,
        target_transform=None,
    )
    pipeline = ensemble.to_pipeline(random_state=0)
    train = pipeline.fit_transform(x_train.copy(), cat_ix).X
    test = pipeline.transform(x_test.copy()).X
    return pipeline, train, test


def small_case(rng, scalars):
    def columns(n):
        return np.c_[
            rng.normal(1.0, 2.0, n),
            5.0 + np.where(rng.random(n) < 0.1, 1e-3, 0.0),
            3.0 * rng.lognormal(0.0, 1.0, n),
            rng.integers(0, 10, n).astype(float),
            np.full(n, 7.0),
        ]

    train = columns(30)
    train[3, 0] = np.nan
    train[7, 1], train[19, 1] = 5.001, 5.001
    test = columns(10)
    test[0] = [-100.0, 4.0, 1e3, -1.0, 7.0]
    test[1] = [100.0, 6.0, -5.0, 20.0, 0.0]
    test[2, 0] = np.nan
    test[3] = [np.nanmin(train[:, 0]), 5.0, train[:, 2].min(), 0.0, 7.0]
    test[4] = [np.nanmax(train[:, 0]), 5.001, train[:, 2].max(), 9.0, 7.0]
    save("small_train", train)
    save("small_test", test)

    kept = train[:, :4]
    n = kept.shape[0]
    quantile = AdaptiveQuantileTransformer(
        output_distribution="uniform", n_quantiles=max(n // 5, 2), random_state=0
    )
    save("small_quantile_train", quantile.fit_transform(kept.copy()))
    save("small_quantile_test", quantile.transform(test[:, :4].copy()))

    _, tr, te = member_pipeline(QUANTILE_SVD, train, test, [])
    save("small_pipeline_quantile_svd_train", tr)
    save("small_pipeline_quantile_svd_test", te)
    pipeline, tr, te = member_pipeline(POWER, train, test, [])
    save("small_pipeline_power_train", tr)
    save("small_pipeline_power_test", te)
    reshape = pipeline.steps[1].transformer_
    power = reshape.named_transformers_["feat_transform"].named_steps["input_transformer"]
    scalars["power_lambdas"] = power.lambdas_.tolist()


def target_case(rng, scalars):
    y = rng.lognormal(0.0, 1.5, 40)
    y_z = (y - y.mean()) / (y.std() + 1e-20)
    transform = get_all_reshape_feature_distribution_preprocessors(num_examples=40)["safepower"]
    forward = transform.fit_transform(y_z.reshape(-1, 1)).ravel()
    grid = np.linspace(-12.0, 12.0, 49)
    inverse = transform.inverse_transform(grid.reshape(-1, 1)).ravel()
    save("target_y", y_z)
    save("target_forward", forward)
    save("target_grid", grid)
    save("target_inverse", inverse)
    scalars["target_lambda"] = float(transform.named_steps["input_transformer"].lambdas_[0])


def fingerprint_case(rng, scalars):
    salt = 4321
    train = rng.normal(size=(6, 3)).round(2)
    train[2] = train[0]
    train[4] = train[0]
    train[5, 1] = np.nan
    test = np.r_[train[:2], rng.normal(size=(2, 3)).round(2)]
    step = AddFingerprintFeaturesStep(random_state=0)
    step.fit(train, [])
    step.rnd_salt_ = salt
    save("fingerprint_train", train)
    save("fingerprint_test", test)
    save("fingerprint_train_out", step._transform(train, is_test=False)[:, -1])
    save("fingerprint_test_out", step._transform(test, is_test=True)[:, -1])
    row = np.array([0.25, -1.5, 3.0])
    digest = hashlib.sha256((row + salt).tobytes()).hexdigest()
    scalars["fingerprint_salt"] = salt
    scalars["fingerprint_row"] = row.tolist()
    scalars["fingerprint_hash"] = int(digest, 16) % 10**12 / 10**12


def categorical_case(rng, scalars):
    def columns(n):
        return np.c_[
            rng.normal(size=n),
            rng.choice([0.5, 1.7, 3.2], n),
            rng.lognormal(0.0, 0.5, n) + 10.0,
            rng.choice([2.0, 4.0, np.nan], n, p=[0.5, 0.4, 0.1]),
        ]

    train = columns(150)
    test = columns(8)
    test[0, 1] = 2.0
    test[1, 3] = 3.0
    save("cat_train", train)
    save("cat_test", test)
    cat_ix = infer_categorical_features(
        train,
        provided=None,
        min_samples_for_inference=100,
        max_unique_for_category=30,
        min_unique_for_numerical=4,
    )
    encoder = get_ordinal_encoder()
    encoded_train = process_text_na_dataframe(
        fix_dtypes(train, cat_indices=cat_ix), ord_encoder=encoder, fit_encoder=True
    )
    encoded_test = process_text_na_dataframe(
        fix_dtypes(test, cat_indices=cat_ix), ord_encoder=encoder
    )
    save("cat_encoded_train", encoded_train)
    save("cat_encoded_test", encoded_test)
    scalars["cat_inferred"] = cat_ix
    # As the regressor does (regressor.py: `cat_ix=self.inferred_categorical_indices_`), the
    # members get the positions inferred on the raw columns, although the encoder has moved the
    # categorical columns to the front: here columns 1 and 3 of the encoded matrix.
    for name, base in (("quantile_svd", QUANTILE_SVD), ("power", POWER)):
        config = PreprocessorConfig(
            base.name,
            append_original=base.append_original,
            categorical_name="none",
            global_transformer_name=base.global_transformer_name,
        )
        _, tr, te = member_pipeline(config, encoded_train, encoded_test, cat_ix)
        save(f"cat_pipeline_{name}_train", tr)
        save(f"cat_pipeline_{name}_test", te)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(16)
    scalars = {}
    small_case(rng, scalars)
    target_case(rng, scalars)
    fingerprint_case(rng, scalars)
    categorical_case(rng, scalars)
    (OUT / "scalars.json").write_text(json.dumps(scalars, indent=1) + "\n")


if __name__ == "__main__":
    main()
