"""Layer 1: mergeable per-window profiles built with Apache DataSketches.

Detectors never see these classes: `signals/` reads what they need through `cdf`, `quantiles`,
`histogram` and `counts`.
"""

from watchkeeper.profiles.categorical import CategoricalColumn, CategoricalProfile
from watchkeeper.profiles.fingerprint import content_fingerprint
from watchkeeper.profiles.numeric import NumericProfile
from watchkeeper.profiles.window import (
    ColumnProfile,
    WindowProfile,
    build_profile,
    merge,
    merge_all,
)

__all__ = [
    "CategoricalColumn",
    "CategoricalProfile",
    "ColumnProfile",
    "NumericProfile",
    "WindowProfile",
    "build_profile",
    "content_fingerprint",
    "merge",
    "merge_all",
]
