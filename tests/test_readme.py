"""The README's two commands are the contract with a newcomer; CI must run the same test one."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = 'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/pytest'
DEMO_COMMAND = "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/watchkeeper demo"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert DEMO_COMMAND in readme and TEST_COMMAND in readme
    assert readme.index(DEMO_COMMAND) < readme.index("## Using it")


def test_ci_runs_the_readme_test_command() -> None:
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text()
