"""Multiple-testing correction across the features of one comparison.

Testing 50 unchanged features at alpha = 0.05 flags about 2.5 of them by chance; users of tools
without a correction see exactly that. Benjamini-Hochberg (the default) keeps the expected share
of false discoveries among flagged features at alpha and loses little power; Bonferroni keeps the
chance of any false flag at alpha (stricter); "none" tests each feature alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from watchkeeper.core.errors import InputError


class Correction(StrEnum):
    BH = "bh"
    BONFERRONI = "bonferroni"
    NONE = "none"

    @classmethod
    def parse(cls, text: str) -> Correction:
        try:
            return cls(text.lower())
        except ValueError:
            known = ", ".join(c.value for c in cls)
            raise InputError(
                f"unknown correction {text!r}", field="correction", expected=f"one of {known}"
            ) from None


def adjust(p_values: Sequence[float], correction: Correction) -> list[float]:
    """Adjusted p-values, in input order; compare each with alpha as it is."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return []
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise InputError("p-values must lie in [0, 1]", field="p_values")
    if correction is Correction.NONE:
        return p.tolist()
    if correction is Correction.BONFERRONI:
        return np.minimum(p * p.size, 1.0).tolist()
    # Benjamini-Hochberg step-up: q_(i) = min over j >= i of m * p_(j) / j.
    order = np.argsort(p, kind="stable")
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(p)
    q[order] = np.minimum(q_sorted, 1.0)
    return q.tolist()
