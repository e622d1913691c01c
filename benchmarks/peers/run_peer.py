"""Run one peer drift tool on two Parquet files and print which columns it flags, as JSON.

Runs inside benchmarks/.peers-venv (see setup.sh), one process per tool, so the caller measures
the whole process (imports, reading Parquet with pandas, the tool's own work) with wait4.
Each tool is used the way its documentation shows, with its default decision rule:
- evidently: DataDriftPreset; a column drifts when its value crosses its method's threshold
  (distances: >= threshold; p-value tests: < threshold), as Evidently decides.
- nannyml: UnivariateDriftCalculator with Kolmogorov-Smirnov / chi2, 10 chunks, default
  thresholds; a column drifts when any analysis chunk raises an alert.
- alibi: TabularDrift (KS for numbers, chi2 for categories), per-feature verdicts at p_val=0.05
  (drift_type="feature": Alibi applies its Bonferroni correction only to the batch verdict).
- frouros: KSTest / ChiSquareTest per column, p < 0.05.
Usage: run_peer.py TOOL REFERENCE CURRENT CATEGORICAL_COLUMNS(comma-separated)
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def evidently(ref: pd.DataFrame, cur: pd.DataFrame, cats: list[str]) -> list[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    nums = [c for c in ref.columns if c not in cats]
    definition = DataDefinition(numerical_columns=nums, categorical_columns=cats)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        is_p_value = "p_value" in config["method"]
        if (value < threshold) if is_p_value else (value >= threshold):
            flagged.append(config["column"])
    return flagged


def nannyml(ref: pd.DataFrame, cur: pd.DataFrame, cats: list[str]) -> list[str]:
    import nannyml as nml

    calc = nml.UnivariateDriftCalculator(
        column_names=list(ref.columns),
        treat_as_categorical=cats,
        continuous_methods=["kolmogorov_smirnov"],
        categorical_methods=["chi2"],
        chunk_number=10,
    )
    calc.fit(ref)
    frame = calc.calculate(cur).filter(period="analysis").to_df()
    flagged = []
    for column in ref.columns:
        alerts = [c for c in frame.columns if c[0] == column and c[-1] == "alert"]
        if any(frame[a].astype(bool).any() for a in alerts):
            flagged.append(column)
    return flagged


def _encode(ref: pd.DataFrame, cur: pd.DataFrame, cats: list[str]) -> tuple[np.ndarray, ...]:
    x_ref, x_cur = ref.copy(), cur.copy()
    for c in cats:
        codes = {v: i for i, v in enumerate(pd.unique(pd.concat([ref[c], cur[c]])))}
        x_ref[c], x_cur[c] = ref[c].map(codes), cur[c].map(codes)
    return x_ref.to_numpy(dtype=np.float64), x_cur.to_numpy(dtype=np.float64)


def alibi(ref: pd.DataFrame, cur: pd.DataFrame, cats: list[str]) -> list[str]:
    from alibi_detect.cd import TabularDrift

    x_ref, x_cur = _encode(ref, cur, cats)
    cat_idx = {list(ref.columns).index(c): None for c in cats}
    detector = TabularDrift(x_ref, p_val=0.05, categories_per_feature=cat_idx)
    verdict = detector.predict(x_cur, drift_type="feature")["data"]["is_drift"]
    return [c for c, d in zip(ref.columns, verdict, strict=True) if d]


def frouros(ref: pd.DataFrame, cur: pd.DataFrame, cats: list[str]) -> list[str]:
    from frouros.detectors.data_drift import ChiSquareTest, KSTest

    flagged = []
    for column in ref.columns:
        detector = ChiSquareTest() if column in cats else KSTest()
        detector.fit(X=ref[column].to_numpy())
        result, _ = detector.compare(X=cur[column].to_numpy())
        if result.p_value < 0.05:
            flagged.append(column)
    return flagged


TOOLS = {"evidently": evidently, "nannyml": nannyml, "alibi": alibi, "frouros": frouros}

if __name__ == "__main__":
    tool, reference, current, categorical = sys.argv[1:5]
    cats = [c for c in categorical.split(",") if c]
    ref_df, cur_df = pd.read_parquet(reference), pd.read_parquet(current)
    print(json.dumps({"tool": tool, "flagged": TOOLS[tool](ref_df, cur_df, cats)}))
