"""Label-free performance estimation (CBPE) and PCA reconstruction drift, side by side with
NannyML on the same data, in one run.

The data: a binary classifier that is calibrated by construction (labels drawn from
sigmoid(2 x0 - x1)), a labelled 20,000-row reference, and analysis chunks of 5,000 rows whose
covariates move onto the decision boundary (x0's sd 1.5 -> 0.25), so performance falls while
P(y | x) stays the same (covariate shift: the case CBPE is built for). The last two chunks also
break the correlation between x2 and x3 (invisible to each feature alone) for the multivariate
checks (PCA reconstruction error, domain classifier).

Printed per chunk: realised accuracy / F1 / ROC AUC (labels the estimators never see), each
tool's estimate and sampling error, and each tool's PCA verdict; then CPU seconds of each tool
(fit + estimate, excluding imports and file reading).

Usage: python benchmarks/performance.py [--chunk 5000]   (about 4 CPU-minutes, nearly all of it
NannyML's domain classifier)
NannyML comes from benchmarks/.peers-venv (bash benchmarks/peers/setup.sh); without it the
watchkeeper columns are printed alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from watchkeeper.detectors.multivariate import domain_classifier, pca_reconstruction
from watchkeeper.detectors.performance import CBPE, classification_metrics

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE / ".peers-venv" / "bin" / "python"
SCALES = (1.5, 1.0, 0.6, 0.4, 0.25)
METRICS = ("accuracy", "f1", "roc_auc")


def world(rng: np.random.Generator, n: int, scale: float, broken: bool) -> pd.DataFrame:
    x = rng.normal(0.0, 1.0, size=(n, 4))
    x[:, 0] *= scale
    cov = [[1.0, -0.8], [-0.8, 1.0]] if broken else [[1.0, 0.8], [0.8, 1.0]]
    x[:, 2:] = rng.multivariate_normal([0.0, 0.0], cov, size=n)
    p = 1.0 / (1.0 + np.exp(-(2.0 * x[:, 0] - x[:, 1])))
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(4)])
    frame["p"] = p
    frame["pred"] = (p >= 0.5).astype(int)
    frame["y"] = (rng.random(n) < p).astype(int)
    return frame


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunk", type=int, default=5000)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    ref = world(rng, 20_000, 1.5, False)
    chunks = [world(rng, args.chunk, s, i >= 3) for i, s in enumerate(SCALES)]
    features = ["x0", "x1", "x2", "x3"]

    t = time.process_time()
    cbpe = CBPE().fit(ref["p"].to_numpy(), ref["y"].to_numpy())
    ours = [cbpe.estimate(c["p"].to_numpy()) for c in chunks]
    cbpe_s = time.process_time() - t
    t = time.process_time()
    ours_pca = [pca_reconstruction(ref[features].to_numpy(), c[features].to_numpy(), features)
                for c in chunks]
    pca_s = time.process_time() - t
    t = time.process_time()
    ours_dc = [domain_classifier(ref[features].to_numpy(), c[features].to_numpy(), features)
               for c in chunks]
    dc_s = time.process_time() - t

    peer = None
    if PEER_PYTHON.exists():
        with tempfile.TemporaryDirectory() as tmp:
            ref.to_parquet(Path(tmp) / "reference.parquet")
            for i, c in enumerate(chunks):
                c.to_parquet(Path(tmp) / f"chunk_{i}.parquet")
            run = subprocess.run(
                [str(PEER_PYTHON), str(HERE / "peers" / "nannyml_performance.py"), tmp],
                capture_output=True, text=True, check=False)
            if run.returncode == 0:
                peer = json.loads(run.stdout.strip().splitlines()[-1])
            else:
                print("nannyml failed:", run.stderr.strip().splitlines()[-1:], file=sys.stderr)

    print(f"CBPE on {len(chunks)} chunks of {args.chunk:,} rows (reference 20,000), "
          "covariate shift onto the decision boundary")
    head = f"{'chunk':>5} {'x0 sd':>6} {'metric':>8} {'realised':>9} {'watchkeeper':>17}"
    print(head + (f" {'nannyml':>17}" if peer else ""))
    errors: dict[str, list[float]] = {"watchkeeper": [], "nannyml": []}
    for i, (c, est) in enumerate(zip(chunks, ours, strict=True)):
        real = classification_metrics(c["y"].to_numpy(), c["p"].to_numpy()).overall
        for m in METRICS:
            r = getattr(real, m)
            e = est[m]
            line = (f"{i:>5} {SCALES[i]:>6} {m:>8} {r:>9.3f} "
                    f"{e.value:>8.3f} ±{e.standard_error:.3f} ")
            errors["watchkeeper"].append(abs(e.value - r))
            if peer:
                v = peer["cbpe"][m]["value"][i]
                se = peer["cbpe"][m]["sampling_error"][i]
                line += f"{v:>9.3f} ±{se:.3f}"
                errors["nannyml"].append(abs(v - r))
            print(line)
    print(f"mean |estimate - realised|: watchkeeper {np.mean(errors['watchkeeper']):.4f}"
          + (f", nannyml {np.mean(errors['nannyml']):.4f}" if peer else ""))
    print("\nPCA reconstruction drift (x2/x3 correlation broken in chunks 3 and 4)")
    print(f"{'chunk':>5} {'watchkeeper ratio':>18} {'flagged':>8}"
          + (f" {'nannyml error':>14} {'alert':>6}" if peer else ""))
    for i, r in enumerate(ours_pca):
        line = f"{i:>5} {r.statistic:>18.2f} {r.flagged!s:>8}"
        if peer:
            line += f" {peer['pca']['value'][i]:>14.3f} {peer['pca']['alert'][i]!s:>6}"
        print(line)
    print("\nDomain classifier (the same chunks)")
    print(f"{'chunk':>5} {'watchkeeper AUC':>16} {'flagged':>8} {'top feature':>12}"
          + (f" {'nannyml AUC':>12} {'alert':>6}" if peer else ""))
    for i, r in enumerate(ours_dc):
        top = r.contributors[0][0] if r.contributors else "-"
        line = f"{i:>5} {r.statistic:>16.3f} {r.flagged!s:>8} {top:>12}"
        if peer:
            line += f" {peer['dc']['value'][i]:>12.3f} {peer['dc']['alert'][i]!s:>6}"
        print(line)
    print(f"\nCPU seconds (fit + all chunks): CBPE watchkeeper {cbpe_s:.2f}"
          + (f", nannyml {peer['cbpe_cpu_s']:.2f}" if peer else "")
          + f"; PCA watchkeeper {pca_s:.2f}"
          + (f", nannyml {peer['pca_cpu_s']:.2f}" if peer else "")
          + f"; domain classifier watchkeeper {dc_s:.2f}"
          + (f", nannyml {peer['dc_cpu_s']:.2f}" if peer else ""))


if __name__ == "__main__":
    main()
