"""NannyML's CBPE, data-reconstruction (PCA) drift and domain classifier on the files
benchmarks/performance.py writes; prints per-chunk values as JSON. Runs inside
benchmarks/.peers-venv (see setup.sh).

Usage: nannyml_performance.py FOLDER   (reads reference.parquet and chunk_*.parquet)
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

warnings.filterwarnings("ignore")


def main(folder: Path) -> None:
    import nannyml as nml

    ref = pd.read_parquet(folder / "reference.parquet")
    chunks = sorted(folder.glob("chunk_*.parquet"))
    cur = pd.concat([pd.read_parquet(p) for p in chunks], ignore_index=True)
    size = len(pd.read_parquet(chunks[0]))
    features = [c for c in ref.columns if c.startswith("x")]
    out: dict[str, object] = {}

    t = time.process_time()
    cbpe = nml.CBPE(
        y_pred_proba="p", y_pred="pred", y_true="y", problem_type="classification_binary",
        metrics=["roc_auc", "f1", "accuracy"], chunk_size=size,
    )
    cbpe.fit(ref)
    est = cbpe.estimate(cur.drop(columns=["y"])).filter(period="analysis").to_df()
    out["cbpe_cpu_s"] = time.process_time() - t
    out["cbpe"] = {m: {"value": est[(m, "value")].tolist(),
                       "sampling_error": est[(m, "sampling_error")].tolist()}
                   for m in ("roc_auc", "f1", "accuracy")}

    t = time.process_time()
    rec = nml.DataReconstructionDriftCalculator(column_names=features, chunk_size=size)
    rec.fit(ref)
    res = rec.calculate(cur).filter(period="analysis").to_df()
    out["pca_cpu_s"] = time.process_time() - t
    out["pca"] = {"value": res[("reconstruction_error", "value")].tolist(),
                  "alert": res[("reconstruction_error", "alert")].tolist()}

    t = time.process_time()
    dc = nml.DomainClassifierCalculator(feature_column_names=features, chunk_size=size)
    dc.fit(ref)
    res = dc.calculate(cur).filter(period="analysis").to_df()
    out["dc_cpu_s"] = time.process_time() - t
    out["dc"] = {"value": res[("domain_classifier_auroc", "value")].tolist(),
                 "alert": res[("domain_classifier_auroc", "alert")].tolist()}
    print(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
