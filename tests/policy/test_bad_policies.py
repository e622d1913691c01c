"""One bad policy per validation rule (tests/policy/bad/<rule>.yaml). Each file ends with the
exact problems it must produce, one `# expect:` comment per problem, in the order reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.core.errors import PolicyError
from watchkeeper.policy import load_policy

BAD = Path(__file__).parent / "bad"
CASES = sorted(BAD.glob("*.yaml"))


def expected_problems(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def test_there_is_a_bad_policy_for_every_rule() -> None:
    assert len(CASES) >= 80
    for path in CASES:
        assert expected_problems(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_policy_reports_exactly_its_problems(path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.problems == expected_problems(path)
    assert caught.value.source == str(path)


def test_each_problem_names_a_path_and_line() -> None:
    for path in CASES:
        for problem in expected_problems(path):
            head, _, message = problem.partition(": ")
            assert head and message, problem
            if path.stem not in ("comments_only",):
                assert problem.endswith(")") and "(line " in problem, problem
