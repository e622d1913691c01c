import itertools

import pytest

from watchkeeper.core.enums import IncidentState as S
from watchkeeper.core.errors import ConflictError
from watchkeeper.incidents.lifecycle import TRANSITIONS, check_transition, parse_state

LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
ILLEGAL = [(a, b) for a in S for b in S if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=lambda s: s.value)
def test_legal_transitions_pass(current: S, target: S) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=lambda s: s.value)
def test_illegal_transitions_are_refused_with_the_legal_ones_listed(current: S, target: S) -> None:
    with pytest.raises(ConflictError) as err:
        check_transition(current, target)
    assert f"from {current.value} to {target.value}" in str(err.value)


def test_happy_path_reaches_postmortem() -> None:
    path = [S.OPEN, S.ACKNOWLEDGED, S.MITIGATING, S.RESOLVED, S.POSTMORTEM_DONE]
    for a, b in itertools.pairwise(path):
        check_transition(a, b)


def test_postmortem_done_is_final() -> None:
    with pytest.raises(ConflictError, match=r"none \(final state\)"):
        check_transition(S.POSTMORTEM_DONE, S.OPEN)


def test_unknown_state_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of open, acknowledged"):
        parse_state("closed")
