#!/usr/bin/env bash
# The paper's Table 1 (the window study) on a real catalog with the b estimators side by side,
# on the full catalog and on its Gardner-Knopoff declustering: runs `quakelab decluster` once and
# `quakelab study windows` eight times (Aki, Tinti-Mulargia, b-positive, b-more-positive x full,
# declustered) into WORK, and prints one markdown table of their window_study.csv files.
#
# Usage (from anywhere): tools/window-study-estimators.sh CATALOG [START END MC [QUAKELAB]]
# e.g.   tools/window-study-estimators.sh ../shared/data/catalogs/japan_comcat_1990-2019.csv
# Defaults: 2009-01-01 2020-01-01, Mc 4.5 (ComCat's completeness over Japan), this checkout's
# target/release/quakelab. WORK (default: a new temporary directory, removed at the end) keeps
# every study's figures when set.
set -euo pipefail
catalog=$(realpath "$1")
start=${2:-2009-01-01}
end=${3:-2020-01-01}
mc=${4:-4.5}
quakelab=${5:-$(dirname "$(realpath "$0")")/../target/release/quakelab}
work=${WORK:-$(mktemp -d)}
if [[ -z "${WORK:-}" ]]; then
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
"$quakelab" decluster --catalog "$catalog" --start "$start" --end "$end" --mc "$mc" \
    --method gardner-knopoff --window gardner-knopoff --declustered --out "$work/declustered.csv" >&2
estimators="aki tinti-mulargia b-positive b-more-positive"
for kind in full declustered; do
    input=$catalog
    [[ $kind == declustered ]] && input=$work/declustered.csv
    for estimator in $estimators; do
        "$quakelab" study windows --catalog "$input" --start "$start" --end "$end" --mc "$mc" \
            --windows 32,64,128,192,256 --estimator "$estimator" --out "$work/$kind-$estimator" >/dev/null
    done
done
echo "| catalog | estimator | window (days) | windows with b | CV | ADF p | KPSS p | stationary | b significance p |"
echo "|---|---|---|---|---|---|---|---|---|"
for kind in full declustered; do
    for estimator in $estimators; do
        # window_days,cv,adf_p,kpss_p,stationary,naive_mae,n_valid,b_sig_n_m,b_sig_mac,b_sig_mu,b_sig_std,b_sig_p,b_sig_missing
        tail -n +2 "$work/$kind-$estimator/window_study.csv" | awk -F, -v k="$kind" -v e="$estimator" \
            '{ printf "| %s | %s | %s | %s | %.3g | %.3g | %.3g | %s | %s |\n", k, e, $1, $7, $2, $3, $4, $5, ($12 == "" ? "—" : sprintf("%.3g", $12)) }'
    done
done
