from typer.testing import CliRunner

from watchkeeper.cli.app import app


def test_version_prints_installed_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "0.1.0"
