"""The explicit list of drift methods. Adding one: write `detectors/drift/<id>.py` with a
`METHOD`, add it to `_ALL` below; the conformance suite then tests it (see CONTRIBUTING.md)."""

from __future__ import annotations

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.drift import (
    chisquare,
    cramervonmises,
    hellinger,
    jensenshannon,
    ks,
    psi,
    wasserstein,
)
from watchkeeper.detectors.drift.base import DriftMethod

_ALL: tuple[DriftMethod, ...] = (
    ks.METHOD,
    psi.METHOD,
    jensenshannon.METHOD,
    wasserstein.METHOD,
    chisquare.METHOD,
    hellinger.METHOD,
    cramervonmises.METHOD,
)

METHODS: dict[str, DriftMethod] = {m.id: m for m in _ALL}


def get_method(method_id: str) -> DriftMethod:
    try:
        return METHODS[method_id]
    except KeyError:
        raise InputError(
            f"unknown drift method {method_id!r}",
            field="method",
            expected="one of " + ", ".join(METHODS),
        ) from None
