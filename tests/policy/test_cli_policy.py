from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from watchkeeper.cli.app import app
from watchkeeper.policy import load_policy

runner = CliRunner()


def init(directory: Path, *args: str) -> None:
    result = runner.invoke(app, ["init", str(directory), *args])
    assert result.exit_code == 0, result.output


def test_init_then_validate_in_a_fresh_directory(tmp_path: Path) -> None:
    target = tmp_path / "new" / "project"
    init(target)
    assert (target / "watchkeeper.yaml").is_file()
    table = pq.read_table(target / "data" / "credit_reference.parquet")
    assert table.num_rows == 5000
    result = runner.invoke(app, ["validate", str(target / "watchkeeper.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid. 1 model (credit-risk); tiers T1 >= 30, T2 >= 60, T3 >= 85; 4 channels " \
        "(console, ops, pager, mail)" in result.output


def test_starter_policy_is_commented_and_covers_every_section(tmp_path: Path) -> None:
    init(tmp_path)
    text = (tmp_path / "watchkeeper.yaml").read_text()
    policy = load_policy(tmp_path / "watchkeeper.yaml")
    for section in type(policy).model_fields:
        assert f"\n{section}:" in text or text.startswith(f"{section}:"), section
    assert sum(1 for line in text.splitlines() if "#" in line) >= 40


def test_validate_uses_the_default_policy_path(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    init(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WATCHKEEPER_POLICY", raising=False)
    assert runner.invoke(app, ["validate"]).exit_code == 0
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("WATCHKEEPER_POLICY", str(tmp_path / "watchkeeper.yaml"))
    assert runner.invoke(app, ["validate"]).exit_code == 0


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    init(tmp_path)
    policy = tmp_path / "watchkeeper.yaml"
    policy.write_text("# my edits\n")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.output and "--force" in result.output
    assert policy.read_text() == "# my edits\n"
    init(tmp_path, "--force")
    assert policy.read_text().startswith("# watchkeeper policy")


def test_init_refuses_when_only_the_data_file_exists(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "credit_reference.parquet").write_bytes(b"keep me")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert not (tmp_path / "watchkeeper.yaml").exists()
    assert (tmp_path / "data" / "credit_reference.parquet").read_bytes() == b"keep me"


def test_validate_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    init(tmp_path)
    path = tmp_path / "watchkeeper.yaml"
    text = path.read_text().replace("metric: f1, min", "metric: f2, min").replace(
        "T2: [console, ops, mail]", "T2: [console, ops, mial]")
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}: 2 problems" in result.output
    assert "models[0].kpis[0].metric: unknown metric 'f2'; expected one of accuracy, f1, " \
        "precision, recall" in result.output
    assert "routes.T2[2].channel: unknown channel 'mial'; expected one of console, mail, ops, " \
        "pager (line 117)" in result.output


def test_validate_reports_a_missing_reference_file(tmp_path: Path) -> None:
    init(tmp_path)
    (tmp_path / "data" / "credit_reference.parquet").unlink()
    result = runner.invoke(app, ["validate", str(tmp_path / "watchkeeper.yaml")])
    assert result.exit_code == 1
    expected = tmp_path.resolve() / "data" / "credit_reference.parquet"
    assert f"models[0].reference: file not found: {expected} (line 16)" in result.output


def test_validate_names_missing_and_extra_reference_columns(tmp_path: Path) -> None:
    init(tmp_path)
    ref = tmp_path / "data" / "credit_reference.parquet"
    table = pq.read_table(ref).drop_columns(["age", "region"])
    table = table.append_column("favourite_colour", pa.array(["blue"] * table.num_rows))
    pq.write_table(table, ref)
    result = runner.invoke(app, ["validate", str(tmp_path / "watchkeeper.yaml")])
    assert result.exit_code == 1
    assert "models[0].reference: missing columns age, region (features of the schema) " \
        "(line 16)" in result.output
    assert "models[0].reference: extra columns favourite_colour; expected only the schema's " \
        "features and the event fields" in result.output


def test_validate_checks_column_types_of_a_csv_reference(tmp_path: Path) -> None:
    init(tmp_path)
    path = tmp_path / "watchkeeper.yaml"
    path.write_text(path.read_text().replace("data/credit_reference.parquet", "ref.csv"))
    table = pq.read_table(tmp_path / "data" / "credit_reference.parquet")
    rows = table.to_pylist()[:50]
    header = list(rows[0])
    lines = [",".join(header)]
    for row in rows:
        row["income"] = "lots"
        lines.append(",".join(str(row[c]) for c in header))
    (tmp_path / "ref.csv").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "column 'income' holds text values, but the feature is numeric" in result.output


def test_validate_of_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "no such file; create one with `watchkeeper init`" in result.output


def test_validate_notes_unset_secret_variables_without_failing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init(tmp_path)
    monkeypatch.setenv("OPS_SLACK_URL", "https://example.invalid/hook")
    monkeypatch.delenv("PD_ROUTING_KEY", raising=False)
    result = runner.invoke(app, ["validate", str(tmp_path / "watchkeeper.yaml")])
    assert result.exit_code == 0
    assert "channels.pager.routing_key_env: $PD_ROUTING_KEY is not set" in result.output
    assert "OPS_SLACK_URL" not in result.output
    assert "https://example.invalid/hook" not in result.output


def test_validate_reads_a_json_lines_reference(tmp_path: Path) -> None:
    init(tmp_path)
    path = tmp_path / "watchkeeper.yaml"
    path.write_text(path.read_text().replace("data/credit_reference.parquet", "ref.jsonl"))
    rows = pq.read_table(tmp_path / "data" / "credit_reference.parquet").to_pylist()[:20]
    (tmp_path / "ref.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    rows[0].pop("employment")
    (tmp_path / "ref.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "missing columns employment (features of the schema)" in result.output
