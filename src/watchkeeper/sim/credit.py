"""A synthetic credit-risk population with a known ground truth.

The default probability follows a fixed logistic rule (`COEFFICIENTS`), so tests and drills can
check a detector or a retrained model against the truth rather than against another estimate.
`CreditShift` moves the population (data drift) or the rule itself (concept drift) in controlled
amounts. Pure numpy: the caller decides how to store the columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGIONS = ("north", "south", "east", "west")
REGION_WEIGHTS = (0.35, 0.25, 0.25, 0.15)
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired")
EMPLOYMENT_WEIGHTS = (0.70, 0.15, 0.07, 0.08)

FEATURES = (
    "income", "age", "debt_ratio", "credit_lines", "late_payments", "loan_amount",
    "region", "employment", "email",
)
NUMERIC = ("income", "age", "debt_ratio", "credit_lines", "late_payments", "loan_amount")
CATEGORICAL = ("region", "employment")

# The true rule: logit P(default) = intercept + sum(coefficient * term), with terms
#   log_income = ln(income / 40,000), age_decades = (age - 40) / 10, debt_ratio as a share,
#   late_payments and credit_lines as counts, one-hot region and employment (north and
#   employed are the baselines). With the default population about 16% default.
COEFFICIENTS: dict[str, float] = {
    "intercept": -4.5,
    "log_income": -1.2,
    "age_decades": -0.2,
    "debt_ratio": 6.0,
    "late_payments": 0.9,
    "credit_lines": 0.05,
    "region=south": 0.2,
    "region=east": 0.1,
    "region=west": -0.1,
    "employment=self_employed": 0.3,
    "employment=unemployed": 1.0,
    "employment=retired": 0.2,
}

# Defaults are rare (about 1 in 6), so the deployed model flags an applicant from 30% up; at
# 0.5 it would miss most defaults (F1 about 0.35 instead of 0.46 on the reference data).
DECISION_THRESHOLD = 0.3


@dataclass(frozen=True, slots=True)
class CreditShift:
    """How a generated population differs from the reference one. The defaults change nothing."""

    income_factor: float = 1.0  # multiplies every income (inflation, a new market)
    age_shift: float = 0.0  # years added to every age (before clipping to 18..90)
    debt_ratio_shift: float = 0.0  # added to every debt ratio (before clipping to 0..1)
    region_weights: tuple[float, float, float, float] | None = None  # replaces REGION_WEIGHTS
    income_null_rate: float = 0.0  # share of incomes missing (a data-quality fault)
    concept_shift: float = 0.0  # added to the true rule's intercept (concept drift)


def generate_credit(n: int = 5000, seed: int = 7, shift: CreditShift | None = None
                    ) -> dict[str, np.ndarray]:
    """`n` applicants: the features in FEATURES plus `probability` (a slightly imperfect
    model's score), `prediction` (0/1 at DECISION_THRESHOLD), `label` (drawn from the true rule) and
    `true_probability`. Same seed and shift -> same rows."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    shift = shift or CreditShift()
    rng = np.random.default_rng(seed)
    income = rng.lognormal(mean=np.log(42_000), sigma=0.5, size=n) * shift.income_factor
    age = np.clip(np.round(rng.normal(42, 12, size=n) + shift.age_shift), 18, 90)
    debt_ratio = np.clip(rng.beta(2.0, 5.0, size=n) + shift.debt_ratio_shift, 0.0, 1.0)
    credit_lines = rng.poisson(4.0, size=n).astype(np.int64)
    late_payments = rng.poisson(0.4, size=n).astype(np.int64)
    loan_amount = np.round(rng.lognormal(mean=np.log(12_000), sigma=0.7, size=n), 2)
    region = rng.choice(np.array(REGIONS), size=n, p=_weights(shift.region_weights))
    employment = rng.choice(np.array(EMPLOYMENT), size=n, p=np.array(EMPLOYMENT_WEIGHTS))
    email = np.array([f"applicant{seed}-{i}@example.com" for i in range(n)])

    columns: dict[str, np.ndarray] = {
        "income": np.round(income, 2),
        "age": age.astype(np.int64),
        "debt_ratio": np.round(debt_ratio, 4),
        "credit_lines": credit_lines,
        "late_payments": late_payments,
        "loan_amount": loan_amount,
        "region": region,
        "employment": employment,
        "email": email,
    }
    truth = default_probability(columns, concept_shift=shift.concept_shift)
    label = (rng.random(n) < truth).astype(np.int64)
    # The "deployed model": the true logit seen through noise, so it is good but not perfect.
    noisy = _logit(truth) + rng.normal(0.0, 0.5, size=n)
    probability = np.round(1.0 / (1.0 + np.exp(-noisy)), 6)

    if shift.income_null_rate > 0:
        missing = rng.random(n) < shift.income_null_rate
        columns["income"] = np.where(missing, np.nan, columns["income"])
    columns["probability"] = probability
    columns["prediction"] = (probability >= DECISION_THRESHOLD).astype(np.int64)
    columns["label"] = label
    columns["true_probability"] = np.round(truth, 6)
    return columns


def default_probability(columns: dict[str, np.ndarray], concept_shift: float = 0.0
                        ) -> np.ndarray:
    """The true P(default) of each row under COEFFICIENTS (incomes must not be missing)."""
    c = COEFFICIENTS
    logit = (
        c["intercept"] + concept_shift
        + c["log_income"] * np.log(np.asarray(columns["income"], dtype=float) / 40_000)
        + c["age_decades"] * (np.asarray(columns["age"], dtype=float) - 40) / 10
        + c["debt_ratio"] * np.asarray(columns["debt_ratio"], dtype=float)
        + c["late_payments"] * np.asarray(columns["late_payments"], dtype=float)
        + c["credit_lines"] * np.asarray(columns["credit_lines"], dtype=float)
    )
    for column in ("region", "employment"):
        values = np.asarray(columns[column])
        for key, coef in c.items():
            if key.startswith(f"{column}="):
                logit = logit + coef * (values == key.split("=", 1)[1])
    return 1.0 / (1.0 + np.exp(-logit))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _weights(weights: tuple[float, ...] | None) -> np.ndarray:
    w = np.asarray(weights if weights is not None else REGION_WEIGHTS, dtype=float)
    if w.shape != (len(REGIONS),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"region_weights must be {len(REGIONS)} non-negative numbers "
                         f"({', '.join(REGIONS)}) with a positive sum, got {weights}")
    return w / w.sum()
