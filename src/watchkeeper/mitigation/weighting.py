"""Importance weights for retraining under covariate shift. Pure.

A domain classifier learns to tell post-change rows from the rest of the training window; its
out-of-fold odds estimate the density ratio p_post(x) / p_train(x), so rows that look like
today's traffic weigh more (Sugiyama et al., covariate shift adaptation by importance
weighting). Out-of-fold predictions keep a row's own label from inflating its weight; the
weights are clipped and normalised to mean 1 so a few extreme rows cannot dominate a fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline

from watchkeeper.mitigation.data import Columns
from watchkeeper.mitigation.templates import preprocessor


def density_ratio_weights(x: np.ndarray, is_post: np.ndarray, columns: Columns, *,
                          clip: tuple[float, float] = (0.1, 10.0), seed: int = 0) -> np.ndarray:
    is_post = np.asarray(is_post, dtype=int)
    n_post, n = int(is_post.sum()), len(is_post)
    if n_post < 10 or n - n_post < 10:  # nothing to compare: every row weighs the same
        return np.ones(n)
    clf = Pipeline([("prep", preprocessor(columns, scale=True)),
                    ("model", LogisticRegression(max_iter=2000))])
    folds = min(5, n_post, n - n_post)
    p = cross_val_predict(clf, x, is_post, cv=folds, method="predict_proba")[:, 1]
    p = np.clip(p, 1e-6, 1 - 1e-6)
    ratio = p / (1 - p) * ((n - n_post) / n_post)
    ratio = np.clip(ratio, *clip)
    return ratio / ratio.mean()
