"""Schema change: columns that appeared, disappeared or changed type since the reference.

Schemas are plain mappings of column name to a type word (``FeatureType`` values, or Arrow
type strings — anything comparable with ``==``). A missing column is the gravest change (the
model is fed a default or fails), so severity counts it double; the check is catastrophic when a
column listed in ``important`` disappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.severity import severity

METHOD = "schema_change"


def schema_change(
    reference: Mapping[str, object],
    current: Mapping[str, object],
    *,
    important: Iterable[str] = (),
) -> QualityResult:
    """Compare two schemas. The statistic is the number of changed columns."""
    ref_cols, cur_cols = set(reference), set(current)
    new = sorted(cur_cols - ref_cols)
    missing = sorted(ref_cols - cur_cols)
    retyped = {
        col: (str(reference[col]), str(current[col]))
        for col in sorted(ref_cols & cur_cols)
        if reference[col] != current[col]
    }
    changed = len(new) + len(missing) + len(retyped)
    # Effect: share of reference columns affected, a missing or retyped column weighing double
    # a new one (new columns are usually harmless extra data).
    weight = 2 * len(missing) + 2 * len(retyped) + len(new)
    effect = weight / max(1, len(ref_cols))
    lost_important = sorted(set(important) & set(missing))
    catastrophic = bool(lost_important)
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if retyped:
        parts.append(
            "retyped " + ", ".join(f"{c} ({a} -> {b})" for c, (a, b) in retyped.items())
        )
    if new:
        parts.append(f"new {', '.join(new)}")
    evidence = (
        f"schema changed in {changed} of {len(ref_cols)} reference columns: " + "; ".join(parts)
        + "."
        if changed
        else f"schema unchanged ({len(ref_cols)} columns)."
    )
    # Any change is worth a look: one changed column in ten already gives severity 0.8.
    sev = 1.0 if catastrophic else (severity(effect, 0.1) if changed else 0.0)
    return QualityResult(
        method=METHOD, statistic=float(changed), threshold=1.0, effect_size=effect,
        flagged=changed > 0, severity=sev, evidence=evidence, catastrophic=catastrophic,
        details={"new": new, "missing": missing,
                 "retyped": {c: list(t) for c, t in retyped.items()},
                 "lost_important": lost_important},
    )
