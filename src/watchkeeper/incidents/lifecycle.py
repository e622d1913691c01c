"""The incident lifecycle as an explicit transition table.

open -> acknowledged -> mitigating -> resolved -> postmortem_done, plus dismissed (a false
positive or not actionable; feeds scoring calibration). A resolved or dismissed incident can be
reopened when the problem comes back within the grouping window.
"""

from __future__ import annotations

from watchkeeper.core.enums import IncidentState as S
from watchkeeper.core.errors import ConflictError

TRANSITIONS: dict[S, frozenset[S]] = {
    S.OPEN: frozenset({S.ACKNOWLEDGED, S.MITIGATING, S.RESOLVED, S.DISMISSED}),
    S.ACKNOWLEDGED: frozenset({S.MITIGATING, S.RESOLVED, S.DISMISSED}),
    S.MITIGATING: frozenset({S.ACKNOWLEDGED, S.RESOLVED}),
    S.RESOLVED: frozenset({S.POSTMORTEM_DONE, S.OPEN}),
    S.DISMISSED: frozenset({S.OPEN}),
    S.POSTMORTEM_DONE: frozenset(),
}

ACTIVE: frozenset[S] = frozenset({S.OPEN, S.ACKNOWLEDGED, S.MITIGATING})

DISMISS_REASONS = ("false_positive", "not_actionable")


def check_transition(current: S, target: S) -> None:
    """Refuse an illegal transition with a message that lists the legal ones."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        legal = ", ".join(sorted(s.value for s in allowed)) or "none (final state)"
        raise ConflictError(
            f"cannot move an incident from {current.value} to {target.value}; "
            f"from {current.value} it can go to: {legal}"
        )


def parse_state(text: str) -> S:
    try:
        return S(text)
    except ValueError:
        known = ", ".join(s.value for s in S)
        raise ValueError(f"unknown incident state {text!r}; expected one of {known}") from None
