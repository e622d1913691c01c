"""Which method a feature gets when the user names none. One function, reasons inline."""

from __future__ import annotations

from watchkeeper.core.enums import FeatureType

# Below this many values on the smaller side, chi-square's approximation (about five expected
# values per category) fails for all but two or three categories.
SMALL_CATEGORICAL = 50


def default_method(feature_type: FeatureType, n_ref: int, n_cur: int) -> str:
    smaller = min(n_ref, n_cur)
    if feature_type in (FeatureType.NUMERIC, FeatureType.DATETIME):
        # Kolmogorov-Smirnov at every size: distribution-free, sees location and shape changes,
        # exact p-value up to 10,000 values and an exact statistic at any size from one sort per
        # side. Its weakness on large samples (trivial shifts become "significant") is handled
        # by the shared minimum-effect rule, not by switching to a distance with a guessed
        # threshold (that is how a fixed 0.1 Wasserstein/JS threshold misses a 0.1-sd shift).
        return "ks"
    if smaller < SMALL_CATEGORICAL:
        # Too few values for chi-square's p-value to be trusted; Hellinger distance is bounded
        # in [0, 1], defined with empty categories, and readable without a p-value.
        return "hellinger"
    # Categorical, boolean, text: chi-square test of homogeneity of the category frequencies;
    # a p-value, so the multiple-testing correction controls false alarms across features.
    return "chisquare"
